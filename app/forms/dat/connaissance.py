"""Step 5: connaissance de l'accident (the start of the 48 hours)."""

from __future__ import annotations

from datetime import UTC, datetime

from wtforms.validators import DataRequired, ValidationError

from app.domain import dat as rules
from app.forms.workflows import FrenchDateField, FrenchTimeField, format_time, french_date

from .choices import MODES_CONNAISSANCE, OUI_NON
from .fields import (
    DatStepForm,
    conditional,
    local_now,
    past_event,
    radio_field,
    raw_date,
    raw_moment,
    text_field,
    valid_data,
)


def knowledge_rules(form, field) -> None:
    """SPEC §2.2: knowledge time ≥ accident time, and not in the future."""
    if not (field.data and valid_data(form.date_connaissance)):
        return
    known = datetime.combine(form.date_connaissance.data, field.data)
    if known > local_now(form):
        raise ValidationError(
            "L'heure à laquelle vous avez eu connaissance de l'accident ne peut pas être dans le futur"
        )
    accident = raw_moment(form.answers, "accident", "date_accident", "heure_accident")
    if accident and known < accident:
        raise ValidationError(
            f"L'employeur ne peut pas avoir eu connaissance de l'accident avant qu'il se produise "
            f"(le {french_date(accident.date())} à {format_time(accident.time())})"
        )


def registre_date_rules(form, field) -> None:
    if not field.data:
        return
    past_event("La date d'inscription au registre")(form, field)
    accident = raw_date(form.answers, "accident", "date_accident")
    if accident and field.data < accident:
        raise ValidationError(
            "La date d'inscription au registre doit être le jour de l'accident "
            f"({french_date(accident)}) ou après"
        )


def care_date_rules(form, field) -> None:
    if not field.data:
        return
    if field.data > local_now(form).date():
        raise ValidationError(
            "La date à laquelle vous avez appris les soins ou l'arrêt de travail "
            "ne peut pas être dans le futur"
        )
    registered = form.registre_date.data
    if registered and field.data < registered:
        raise ValidationError(
            "Vous avez appris les soins ou l'arrêt de travail après l'inscription au registre : "
            f"saisissez une date à partir du {french_date(registered)}"
        )


def care_time_rules(form, field) -> None:
    """The care or stoppage is learnt of after the accident itself, and not in the future."""
    if not (field.data and form.date_soins.data):
        return
    care = datetime.combine(form.date_soins.data, field.data)
    if care > local_now(form):
        raise ValidationError(
            "L'heure à laquelle vous avez appris les soins ou l'arrêt de travail "
            "ne peut pas être dans le futur"
        )
    known = form.known_at()
    if known and care < known:
        raise ValidationError(
            "Vous avez appris les soins ou l'arrêt de travail après avoir eu connaissance de l'accident "
            f"(le {french_date(known.date())} à {format_time(known.time())}) : vérifiez la date et l'heure"
        )


class ConnaissanceForm(DatStepForm):
    step_name = "connaissance"
    conditions = {  # noqa: RUF012
        "registre_date": conditional("registre", "oui"),
        "registre_numero": conditional("registre", "oui"),
        "date_soins": conditional("registre", "oui"),
        "heure_soins": conditional("registre", "oui"),
    }

    mode = radio_field(
        "Comment l'employeur a-t-il eu connaissance de l'accident ?",
        MODES_CONNAISSANCE,
        "Sélectionnez comment l'employeur a eu connaissance de l'accident",
    )
    date_connaissance = FrenchDateField(
        "Date à laquelle l'employeur en a eu connaissance",
        what="La date de connaissance",
        description=(
            "C'est à partir de ce moment que courent les 48 heures pour déclarer. Par exemple 27 3 2026"
        ),
        validators=[
            DataRequired("Saisissez la date à laquelle l'employeur a eu connaissance de l'accident"),
            past_event("La date de connaissance"),
        ],
    )
    heure_connaissance = FrenchTimeField(
        "Heure",
        what="L'heure de connaissance",
        description="Par exemple 14:30",
        validators=[
            DataRequired("Saisissez l'heure à laquelle l'employeur a eu connaissance de l'accident"),
            knowledge_rules,
        ],
    )
    registre = radio_field(
        "L'accident est-il inscrit au registre des accidents bénins ?",
        OUI_NON,
        "Indiquez si l'accident est inscrit au registre des accidents bénins",
        hint="Le registre, tenu par certains employeurs, recense les accidents sans arrêt ni soins médicaux.",
    )
    registre_date = FrenchDateField(
        "Date d'inscription au registre",
        what="La date d'inscription",
        validators=[DataRequired("Saisissez la date d'inscription au registre"), registre_date_rules],
    )
    registre_numero = text_field(
        "Numéro d'inscription",
        required="Saisissez le numéro d'inscription au registre",
        max_len=20,
        what="Le numéro d'inscription",
        render_kw={"params": {"classes": "govuk-input--width-10"}},
    )
    # R441-5, D441-1: an accident of the register declared because it later needed care or a stoppage.
    date_soins = FrenchDateField(
        "Date à laquelle l'employeur a appris que l'accident entraînait des soins médicaux "
        "ou un arrêt de travail",
        what="La date",
        description=(
            "Un accident inscrit au registre se déclare dans les 48 heures qui suivent ce moment-là, et non "
            "le jour de l'accident. Par exemple 27 3 2026"
        ),
        validators=[
            DataRequired(
                "Saisissez la date à laquelle l'employeur a appris les soins médicaux ou l'arrêt de travail"
            ),
            care_date_rules,
        ],
    )
    heure_soins = FrenchTimeField(
        "Heure",
        what="L'heure",
        description="Par exemple 14:30",
        validators=[
            DataRequired(
                "Saisissez l'heure à laquelle l'employeur a appris les soins médicaux ou l'arrêt de travail"
            ),
            care_time_rules,
        ],
    )

    def known_at(self) -> datetime | None:
        """The naive local moment the employer learnt of the accident (None until both boxes are valid)."""
        if self.date_connaissance.data and self.heure_connaissance.data:
            return datetime.combine(self.date_connaissance.data, self.heure_connaissance.data)
        return None

    def start(self) -> rules.DatStart | None:
        """Where the 48 hours run from, as typed on this page (SPEC §2.1)."""
        care = None
        if self.date_soins.data and self.heure_soins.data:
            care = datetime.combine(self.date_soins.data, self.heure_soins.data)
        return rules.dat_start(self.known_at(), registre=self.registre.data == "oui", care_known_at=care)

    def due_notice(self) -> rules.DueNotice | None:
        start, establishment = self.start(), getattr(self.context, "establishment", None)
        if start is None or establishment is None:
            return None
        return rules.due_notice(start.at, establishment.departement, datetime.now(UTC), benin=start.benin)
