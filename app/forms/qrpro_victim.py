"""Forms of the victim's access (QR Pro, issue 13, item 6): the access code printed in the victim's
letter with the case's reference, then the account's e-mail and password."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.forms.accounts import _new_password_fields, email_field, email_format, strip
from app.forms.workflows import TextInput


class AccessCodeForm(FlaskForm):
    reference = StringField(
        "Numéro de dossier",
        description="Il figure en haut de votre courrier, par exemple AT-2026-000123.",
        filters=[strip],
        validators=[
            DataRequired("Saisissez le numéro de dossier qui figure sur votre courrier"),
            Length(max=40, message="Le numéro de dossier fait au plus 40 caractères"),
        ],
        widget=TextInput(),
        render_kw={
            "autocomplete": "off",
            "spellcheck": "false",
            "params": {"classes": "govuk-input--width-20"},
        },
    )
    code = StringField(
        "Code d'accès",
        description=(
            "12 lettres et chiffres, par exemple K7QM-3WHT-ZP9C. Les tirets et les espaces ne comptent pas."
        ),
        filters=[strip],
        validators=[
            DataRequired("Saisissez le code d'accès qui figure sur votre courrier"),
            Length(max=40, message="Le code d'accès fait 12 lettres et chiffres"),
        ],
        widget=TextInput(),
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "params": {"classes": "govuk-input--width-20 app-access-code"},
        },
    )
    submit = SubmitField("Continuer", widget=GovSubmitInput())


class VictimAccountForm(FlaskForm):
    email = email_field(
        "Votre adresse e-mail",
        "Elle vous servira à vous connecter. La caisse n'y envoie aucune information sur votre santé.",
    )
    password, confirm = _new_password_fields()
    submit = SubmitField("Créer mon compte", widget=GovSubmitInput())

    def validate_email(self, field):
        email_format(self, field)
