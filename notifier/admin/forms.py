"""The admin's forms; each carries the session's CSRF token (Flask-WTF)."""

from typing import Final

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from notifier.admin.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from notifier.models.admin_account import ROLES

TEMPLATE_NAME: Final = r'^[a-z0-9][a-z0-9_-]{0,127}$'
LOCALE: Final = r'^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$'
MAX_SOURCE_LENGTH: Final = 200000
MAX_SAMPLE_LENGTH: Final = 20000
MAX_EMAIL_LENGTH: Final = 320
MAX_USER_ID_LENGTH: Final = 64
LIMIT_NAME: Final = r'^[a-z0-9_.-]{1,128}$'
MAX_RATE_LENGTH: Final = 32


class LoginForm(FlaskForm):
    """Email and password."""

    email = StringField('Email', validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)])
    password = PasswordField('Password', validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])


class TemplateForm(FlaskForm):
    """A template's identity, its source, and what to preview it with."""

    channel = SelectField('Channel', validators=[DataRequired()])
    name = StringField('Name', validators=[
        DataRequired(), Regexp(TEMPLATE_NAME, message='lower-case letters, digits, - and _'),
    ])
    locale = StringField('Locale', default='ru', validators=[
        DataRequired(), Regexp(LOCALE, message='a locale such as ru or en-GB'),
    ])
    source = TextAreaField('Source', validators=[DataRequired(), Length(max=MAX_SOURCE_LENGTH)])
    sample_fields = TextAreaField('Sample fields (JSON)', default='{}', validators=[Length(max=MAX_SAMPLE_LENGTH)])
    user_id = StringField('Preview as user (id)', validators=[Optional(), Length(max=MAX_USER_ID_LENGTH)])
    base_version = HiddenField(default='0')


class AccountForm(FlaskForm):
    """A new account."""

    email = StringField('Email', validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)])
    role = SelectField('Role', choices=list(ROLES))  # type: ignore[arg-type] # the stubs predate plain-value choices
    password = PasswordField('Password', validators=[
        DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH),
    ])


class LimitForm(FlaskForm):
    """A run-time rate limit: its name and rate."""

    name = StringField('Name', validators=[
        DataRequired(), Regexp(LIMIT_NAME, message='a name like generator.publish or channel.email.send'),
    ])
    rate = StringField('Rate', validators=[DataRequired(), Length(max=MAX_RATE_LENGTH)])
