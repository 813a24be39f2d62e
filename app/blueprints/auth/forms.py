from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget


class SignupForm(FlaskForm):
    display_name = StringField("Your name", validators=[DataRequired(), Length(max=80)])
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired()],
                             description="At least 10 characters; not a common password.")


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Remember me")


class ForgotPasswordForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired()])


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired()],
                             description="At least 10 characters; not a common password.")


class ProfileForm(FlaskForm):
    display_name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    headline = StringField("Headline", validators=[Length(max=120)],
                           description="One line under your name, e.g. “Data engineer, teaches SQL”.")
    bio = TextAreaField("Bio", validators=[Length(max=5000)])


class AvatarForm(FlaskForm):
    avatar = FileField("New avatar", validators=[FileRequired("Choose an image file.")],
                       description="PNG, JPEG, GIF or WebP, at most 2 MB.")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password")
    new_password = PasswordField("New password", validators=[DataRequired()],
                                 description="At least 10 characters; not a common password.")


class ChangeEmailForm(FlaskForm):
    new_email = EmailField("New e-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password")


class DeleteAccountForm(FlaskForm):
    confirm = BooleanField("I understand my account and my courses will be removed",
                           validators=[DataRequired("Tick the box to confirm.")])


class EmptyForm(FlaskForm):
    """A CSRF-protected button."""


class ApiTokenForm(FlaskForm):
    """A new personal access token. The service checks every value (accounts/api_tokens.py),
    so its messages, not WTForms' generic ones, reach the form; the view sets the scope
    choices to those the user may grant."""

    name = StringField("Name", description="What the token is for, e.g. “grading script on my laptop”.")
    scopes = SelectMultipleField("Scopes", default=["read"], validate_choice=False,
                                 widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    expires_in_days = SelectField("Expires after", default="30", validate_choice=False,
                                  choices=[SelectChoice("7", "7 days"), SelectChoice("30", "30 days"),
                                           SelectChoice("90", "90 days"), SelectChoice("365", "1 year")])
