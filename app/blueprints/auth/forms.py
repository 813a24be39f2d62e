from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


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
