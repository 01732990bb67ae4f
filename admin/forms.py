"""Console forms (CSRF on every one through Flask-WTF)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from kb import content
from kb.accounts import SCOPES
from web.i18n import gettext

LANG_CHOICES = [SelectChoice("he", "עברית"), SelectChoice("en", "English"), SelectChoice("ar", "العربية"),
                SelectChoice("ru", "Русский")]
CHANNEL_LABELS = {"web": "Web", "x": "X / Twitter", "facebook": "Facebook", "instagram": "Instagram",
                  "email": "Email"}


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _items(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").replace("\n", ",").split(",") if part.strip()]


class EntryForm(FlaskForm):
    question = TextAreaField("Question", validators=[DataRequired(), Length(max=content.MAX_QUESTION)])
    alternates = TextAreaField("Other ways customers ask it (one per line)", validators=[Optional()])
    answer = TextAreaField("Approved answer", validators=[DataRequired(), Length(max=content.MAX_ANSWER)])
    variant_x = TextAreaField("X / Twitter (280 weighted characters)", validators=[Optional()])
    variant_facebook = TextAreaField("Facebook", validators=[Optional()])
    variant_instagram = TextAreaField("Instagram", validators=[Optional()])
    variant_email = TextAreaField("Email", validators=[Optional()])
    placeholders = StringField("Placeholders (comma-separated names used as {name})", validators=[Optional()])
    lang = SelectField("Language", choices=LANG_CHOICES)
    category = SelectField("Category", choices=[], validators=[Optional()])
    department = SelectField("Owner department", choices=[], validators=[Optional()])
    review_by = DateField("Review by", validators=[Optional()])
    tags = StringField("Tags (comma-separated)", validators=[Optional(), Length(max=500)])
    base_version_id = HiddenField()
    base_row_version = HiddenField()

    def validate_variant_x(self, field: TextAreaField) -> None:
        """Keep the X variant within X's limit."""
        if field.data and content.weighted_length(field.data.strip()) > content.CHANNEL_LIMITS["x"]:
            n = content.weighted_length(field.data.strip())
            raise ValidationError(gettext("{n} characters; X allows 280", n=n))

    def variants(self) -> dict[str, str]:
        """Return the channel variants typed in."""
        out = {}
        for channel in ("x", "facebook", "instagram", "email"):
            value = (getattr(self, f"variant_{channel}").data or "").strip()
            if value:
                out[channel] = value
        return out

    def alternate_list(self) -> list[str]:
        """Return the alternate phrasings, one per line."""
        return _lines(self.alternates.data)

    def placeholder_list(self) -> list[str]:
        """Return the declared placeholder names."""
        return _items(self.placeholders.data)

    def tag_list(self) -> list[str]:
        """Return the tags."""
        return _items(self.tags.data)


class ActionForm(FlaskForm):
    """A workflow step (submit, approve, reject, retire...) with an optional or required comment."""

    comment = TextAreaField("Comment", validators=[Optional(), Length(max=2000)])
    row_version = HiddenField()


class ApiKeyForm(FlaskForm):
    username = SelectField("For user", choices=[], validators=[DataRequired()])
    name = StringField("What it is for", validators=[Optional(), Length(max=200)])
    scopes = SelectMultipleField("Scopes", choices=[SelectChoice(s) for s in SCOPES], default=["suggest", "feedback"],
                                 validators=[DataRequired()])


class RevokeForm(FlaskForm):
    key_id = IntegerField(validators=[DataRequired()])
