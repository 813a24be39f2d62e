from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length


class NewCourseForm(FlaskForm):
    title = StringField("Course title", validators=[DataRequired(), Length(max=300)],
                        description="You can change it later.")
    category_id = SelectField("Category", coerce=str, validators=[DataRequired()])
    accept_terms = BooleanField("I accept the creator terms: I own the rights to what I upload, "
                                "and Lyceum keeps a commission on each sale.")
