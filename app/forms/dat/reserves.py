"""Step 7: réserves motivées — and the reserves addendum sent after the declaration (CSS R441-6)."""

from __future__ import annotations

import re

from wtforms import FileField, Form, HiddenField, TextAreaField
from wtforms.validators import DataRequired, ValidationError

from app.forms.workflows import FrenchRadioField, TextArea, strip

from .choices import CATEGORIES, RESERVES, choices
from .fields import (
    LONG_TEXT_MAX,
    RESERVES_MIN,
    DatStepForm,
    area_field,
    conditional,
    max_length,
    min_length,
    radio_field,
)

RESERVES_HINT = (
    "Des réserves ne sont recevables que si elles portent sur les circonstances de temps et de lieu "
    "de l'accident, ou sur l'existence d'une cause totalement étrangère au travail. Elles doivent être "
    "motivées : un simple « réserves » n'est pas recevable. Elles obligent la caisse à mener une "
    "instruction avant de décider."
)


def attachment_owned(form, field) -> None:
    """The attachment is a file this establishment uploaded for the DAT (not a forged id), under
    the name shown beside it."""
    if not field.data:
        return
    establishment = getattr(form.context, "establishment", None)
    upload = form.attachment()
    if (
        upload is None
        or establishment is None
        or upload.establishment_id != establishment.id
        or upload.service != "dat"
        or upload.filename != form.piece_jointe_nom.data
    ):
        raise ValidationError("La pièce jointe est introuvable : joignez de nouveau le fichier")


class ReservesForm(DatStepForm):
    step_name = "reserves"
    # Its « Retirer la pièce jointe » / « Joindre le fichier » buttons come before « Continuer »: the
    # step page puts a hidden default « Continuer » first, for Enter (workflows/_group_macros.html).
    has_file_buttons = True
    conditions = {  # noqa: RUF012
        "categorie": conditional("reserves", "oui"),
        "motivation": conditional("reserves", "oui"),
        "piece_jointe": conditional("reserves", "oui"),
        "piece_jointe_nom": conditional("reserves", "oui"),
    }

    reserves = radio_field(
        "Émettez-vous des réserves motivées sur le caractère professionnel de l'accident ?",
        RESERVES,
        "Indiquez si vous émettez des réserves motivées",
        hint=RESERVES_HINT,
    )
    categorie = radio_field(
        "Sur quoi portent vos réserves ?", CATEGORIES, "Sélectionnez sur quoi portent vos réserves"
    )
    motivation = area_field(
        "Motivez vos réserves",
        hint=(
            f"Expliquez précisément les faits qui fondent vos doutes ({RESERVES_MIN} caractères au minimum, "
            "5 000 au maximum)."
        ),
        required="Motivez vos réserves : un simple « réserves » n'est pas recevable",
        max_len=LONG_TEXT_MAX,
        what="La motivation",
        validators=[
            min_length(
                RESERVES_MIN,
                f"Motivez vos réserves en {RESERVES_MIN} caractères au moins : "
                "un simple « réserves » n'est pas recevable",
            )
        ],
        render_kw={"params": {"rows": 6}},
    )
    piece_jointe = HiddenField("Pièce jointe (facultatif)", filters=[strip], validators=[attachment_owned])
    # The file's name as stored, shown beside the id (checked against the upload on validation).
    piece_jointe_nom = HiddenField("Nom de la pièce jointe", filters=[strip])

    @property
    def attachment_id(self) -> int | None:
        """The upload id the hidden field holds; None unless it is one (a raw answer may hold anything)."""
        value = self.piece_jointe.data
        return int(value) if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value) else None

    def attachment(self):
        """The Upload the hidden field names, if any (a DB read: only on this step)."""
        if self.attachment_id is None:
            return None
        from app.extensions import db
        from app.models import Upload

        return db.session.get(Upload, self.attachment_id)


class ReserveAddendumForm(Form):
    """Reasoned reserves sent after the declaration, within its 10 jours francs (CSS R441-6)."""

    categorie = FrenchRadioField(
        "Sur quoi portent vos réserves ?",
        description=RESERVES_HINT,
        choices=choices(CATEGORIES),
        validators=[DataRequired("Sélectionnez sur quoi portent vos réserves")],
    )
    motivation = TextAreaField(
        "Motivez vos réserves",
        description=(
            f"Expliquez précisément les faits qui fondent vos doutes ({RESERVES_MIN} caractères au minimum, "
            "5 000 au maximum)."
        ),
        filters=[strip],
        validators=[
            DataRequired("Motivez vos réserves : un simple « réserves » n'est pas recevable"),
            max_length(LONG_TEXT_MAX, "La motivation"),
            min_length(
                RESERVES_MIN,
                f"Motivez vos réserves en {RESERVES_MIN} caractères au moins : "
                "un simple « réserves » n'est pas recevable",
            ),
        ],
        widget=TextArea(),
        render_kw={"params": {"rows": 8}},
    )
    fichier = FileField(
        "Pièce jointe (facultatif)", description="Un fichier PDF, PNG ou JPEG de 10 Mo au maximum."
    )
