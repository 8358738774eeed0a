"""QR Pro, the CPAM agent's forms (issue 13): registering an MP, choosing the questionnaire models,
changing a date, scheduling the consultation and moving it, recording the decision. Checks that need the
database or the legal calendar are the services' (their messages are put next to the fields by the
views)."""

from __future__ import annotations

from wtforms import BooleanField, FieldList, Form, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import HiddenInput

from app.domain.qrpro import DECISION_LABELS, MAX_EMPLOYERS, Decision
from app.forms.workflows import (
    CheckboxInput,
    FrenchDateField,
    FrenchRadioField,
    FrenchSelectField,
    TextArea,
    TextInput,
    strip,
)

# The establishments one MP case may name besides the first.
MAX_OTHER_EMPLOYERS = MAX_EMPLOYERS - 1


def _text(label: str, hint: str = "", *, max_length: int = 200, classes: str = "") -> StringField:
    return StringField(
        label,
        description=hint,
        filters=[strip],
        validators=[Optional(), Length(max=max_length, message=f"{max_length} caractères au maximum")],
        widget=TextInput(),
        render_kw={"class": classes} if classes else None,
    )


class MpRegistrationForm(Form):
    """An occupational disease declared to the caisse (issue 13, item 2). Required fields are checked by
    the service, which gives every missing or wrong one its French message."""

    nir = _text(
        "Numéro de sécurité sociale de la victime", "13 chiffres et la clé, par exemple 2 80 03 57 463 123 45"
    )
    victim_name = _text("Nom et prénom de la victime")
    address = _text("Adresse de la victime", "Numéro et voie", max_length=200)
    postal_code = _text("Code postal", max_length=5)
    city = _text("Commune", max_length=100)
    siret = _text("SIRET de l'établissement employeur", "14 chiffres", max_length=20)
    # The other establishments where the victim was exposed (« Ajouter un autre établissement »: a
    # submit button, so it works without JavaScript; the page comes back with one more field).
    other_sirets = FieldList(
        _text("SIRET d'un autre établissement employeur", "14 chiffres", max_length=20),
        max_entries=MAX_OTHER_EMPLOYERS,
    )
    hors_tableau = BooleanField(
        "Maladie hors tableau (examinée par le comité régional)", widget=CheckboxInput()
    )
    table = _text(
        "Numéro du tableau de maladie professionnelle", "Par exemple 57, 30 bis ou 42 A", max_length=10
    )
    disease_label = _text("Intitulé de la maladie", max_length=300)
    first_finding_on = FrenchDateField(
        "Date de la première constatation médicale", what="La date de la première constatation médicale"
    )
    declaration_received_on = FrenchDateField(
        "Date de réception de la déclaration", what="La date de réception de la déclaration"
    )
    cmi_received_on = FrenchDateField(
        "Date de réception du certificat médical initial",
        what="La date de réception du certificat médical initial",
        description="D0 est la plus tardive des deux réceptions.",
    )

    def add_employer(self) -> None:
        """One more (empty) establishment field, up to the limit."""
        if len(self.other_sirets.entries) < MAX_OTHER_EMPLOYERS:
            self.other_sirets.append_entry("")

    def remove_employer(self, index: str | None) -> None:
        """The ``index``-th other establishment field taken out (the others keep their order)."""
        values = [entry.data or "" for entry in self.other_sirets.entries]
        if index is not None and index.isdigit() and int(index) < len(values):
            del values[int(index)]
        self.other_sirets.entries = []
        self.other_sirets.last_index = -1
        for value in values:
            self.other_sirets.append_entry(value)

    @property
    def can_add_employer(self) -> bool:
        return len(self.other_sirets.entries) < MAX_OTHER_EMPLOYERS


def _with_none_chosen(prompt: str, choices) -> list[SelectChoice]:
    """A select's options: the prompt (empty value) first, then the (value, label) pairs given."""
    return [SelectChoice("", prompt), *(SelectChoice(value, label) for value, label in choices)]


class ModelsForm(Form):
    """Choose the questionnaire models (none for a fatal accident): each is pinned to its version."""

    employer_model = FrenchSelectField("Questionnaire de l'employeur", validators=[Optional()])
    victim_model = FrenchSelectField("Questionnaire de la victime", validators=[Optional()])

    def __init__(self, *args, employer_choices=(), victim_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.employer_model.choices = _with_none_chosen("Choisissez un modèle", employer_choices)
        self.victim_model.choices = _with_none_chosen("Choisissez un modèle", victim_choices)


class OverrideForm(Form):
    """Change a computed date, with the reason (kept and audited)."""

    date = FrenchSelectField("Date à modifier", validators=[DataRequired("Choisissez la date à modifier")])
    nouvelle_date = FrenchDateField(
        "Nouvelle date", what="La nouvelle date", validators=[DataRequired("Saisissez la nouvelle date")]
    )
    motif = TextAreaField(
        "Motif de la modification",
        filters=[strip],
        validators=[
            DataRequired("Indiquez le motif de la modification : il est conservé et tracé"),
            Length(max=1000, message="Le motif doit faire 1 000 caractères au maximum"),
        ],
        widget=TextArea(),
    )

    def __init__(self, *args, dates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.date.choices = _with_none_chosen("Choisissez une date", dates)


class ScheduleForm(Form):
    """The consultation's opening and the planned decision (checked against the law by the service)."""

    opening = FrenchDateField(
        "Date d'ouverture de la consultation du dossier",
        what="La date d'ouverture",
        description="Au moins 10 jours francs après la réception de l'information par les parties.",
    )
    decision_on = FrenchDateField(
        "Date prévue de la décision",
        what="La date prévue de la décision",
        description="Après les 10 jours francs de consultation avec observations.",
    )


class RescheduleForm(Form):
    """Move a notified consultation: new dates (checked against the law by the service) and the reason.
    ``edition`` is the schedule the page showed (a retried request is recognised by it)."""

    opening = FrenchDateField(
        "Nouvelle date d'ouverture de la consultation du dossier",
        what="La nouvelle date d'ouverture",
        description="Au moins 10 jours francs après la réception réputée du nouveau courrier.",
    )
    decision_on = FrenchDateField(
        "Nouvelle date prévue de la décision",
        what="La nouvelle date prévue de la décision",
        description="Après les 10 jours francs de consultation avec observations.",
    )
    reason = TextAreaField(
        "Motif du changement de dates",
        description="Il est conservé dans la chronologie du dossier et dans le journal.",
        filters=[strip],
        validators=[Optional(), Length(max=1000, message="Le motif doit faire 1 000 caractères au maximum")],
        widget=TextArea(),
    )
    edition = StringField(widget=HiddenInput(), filters=[strip])

    @property
    def seen_edition(self) -> int | None:
        """The schedule the page showed (None when absent or not a number: no retry check then)."""
        value = self.edition.data or ""
        return int(value) if value.isdigit() and len(value) < 6 else None


class DecisionForm(Form):
    decision = FrenchRadioField(
        "Décision",
        choices=[SelectChoice(str(d), DECISION_LABELS[d]) for d in Decision],
        validators=[DataRequired("Choisissez la décision : prise en charge ou refus")],
    )
    reasons = TextAreaField(
        "Motifs",
        description="Obligatoires pour un refus : ils figurent dans la notification.",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=4000, message="Les motifs doivent faire 4 000 caractères au maximum"),
        ],
        widget=TextArea(),
    )
    without_information_reason = TextAreaField(
        "Motif de décider sans courrier d'information d'une partie (si c'est le cas)",
        filters=[strip],
        validators=[Optional(), Length(max=1000, message="Le motif doit faire 1 000 caractères au maximum")],
        widget=TextArea(),
    )
