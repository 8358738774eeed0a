"""Forms of the Subventions Prévention (issue 14): the start of a request, the attestations of SPEC §7, a
line (a quote or a paid invoice, with its PDF), and a Carsat agent's decisions. Every message is French and
names the field; amounts are read as typed in France (« 1 250,50 ») into a Decimal, never a float."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.forms.workflows import (
    FileInput,
    FrenchCheckboxesField,
    FrenchDateField,
    FrenchRadioField,
    TextArea,
    TextInput,
)

YES_NO = [SelectChoice("oui", "Oui"), SelectChoice("non", "Non")]
MAX_AMOUNT = Decimal("100000000")


def parse_amount(text: str | None) -> Decimal | None:
    """``"1 250,50"`` or ``"1250.5 €"`` → ``Decimal("1250.50")``; None when it is not an amount in euros
    with at most two decimals."""
    value = re.sub(r"[\s\u00a0\u202f€]", "", text or "").replace(",", ".")
    if not re.fullmatch(r"\d{1,12}(\.\d{1,2})?", value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover — the pattern only lets digits through
        return None


class AmountField(StringField):
    """An amount in euros typed in one box, read into a Decimal (``what`` names it in the messages)."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, what: str = "Le montant", **kwargs):
        kwargs.setdefault(
            "render_kw",
            {"inputmode": "decimal", "spellcheck": "false", "params": {"classes": "govuk-input--width-10"}},
        )
        super().__init__(label, validators, **kwargs)
        self.what = what
        self.amount: Decimal | None = None

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        text = (self.data or "").strip()
        self.amount = parse_amount(text) if text else None
        if text and self.amount is None:
            raise ValueError(f"{self.what} doit être un montant en euros, par exemple 1 250,50")
        if self.amount is not None and self.amount >= MAX_AMOUNT:
            self.amount = None
            raise ValueError(f"{self.what} doit être inférieur à 100 000 000 €")

    def process_data(self, value):
        if isinstance(value, Decimal):
            self.amount = value
            value = f"{value:.2f}".replace(".", ",")
        super().process_data(value)


def _yes_no(label: str, message: str, hint: str = "") -> FrenchRadioField:
    return FrenchRadioField(
        label,
        choices=YES_NO,
        description=hint,
        validators=[InputRequired(message)],
        render_kw={"params": {"classes": "govuk-radios--inline"}},
    )


class StartForm(FlaskForm):
    """Which programme, for which establishment (choices set by the view)."""

    programme = FrenchRadioField(
        "Pour quel programme ?", validators=[InputRequired("Choisissez le programme de la subvention")]
    )
    etablissement = FrenchRadioField(
        "Pour quel établissement ?", validators=[InputRequired("Choisissez l'établissement concerné")]
    )
    submit = SubmitField("Continuer", widget=GovSubmitInput())


class AttestationsForm(FlaskForm):
    """The conditions the employer attests (SPEC §7)."""

    regime_general = _yes_no(
        "L'entreprise relève-t-elle du régime général de la sécurité sociale ?",
        "Indiquez si l'entreprise relève du régime général",
    )
    contributions_up_to_date = _yes_no(
        "L'entreprise est-elle à jour de ses cotisations URSSAF ?",
        "Indiquez si l'entreprise est à jour de ses cotisations",
    )
    duerp_updated_on = FrenchDateField(
        "Date de la dernière mise à jour du document unique d'évaluation des risques (DUERP)",
        what="La date de mise à jour du DUERP",
        description="Par exemple 15 3 2026. Il doit avoir été mis à jour dans les 12 derniers mois.",
        validators=[DataRequired("Saisissez la date de la dernière mise à jour du DUERP")],
    )
    prevention_contract_in_progress = _yes_no(
        "Un contrat de prévention est-il en cours ?", "Indiquez si un contrat de prévention est en cours"
    )
    prevention_contract_ended_on = FrenchDateField(
        "Si l'entreprise a eu un contrat de prévention, à quelle date a-t-il pris fin ?",
        what="La date de fin du contrat de prévention",
        description="Laissez vide si l'entreprise n'en a jamais eu.",
        validators=[Optional()],
    )
    injunction_or_surcharge = _yes_no(
        "Une injonction ou une cotisation supplémentaire est-elle en cours ?",
        "Indiquez si une injonction ou une cotisation supplémentaire est en cours",
    )
    occupational_health_member = _yes_no(
        "L'entreprise adhère-t-elle à un service de prévention et de santé au travail ?",
        "Indiquez si l'entreprise adhère à un service de santé au travail",
    )
    staff_representatives_informed = _yes_no(
        "Les représentants du personnel ont-ils été informés de la demande ?",
        "Indiquez si les représentants du personnel ont été informés",
        hint="Répondez « Oui » si l'entreprise n'a pas de représentants du personnel.",
    )
    de_minimis_aid = AmountField(
        "Montant des aides publiques de minimis reçues sur les 3 dernières années",
        what="Le montant des aides de minimis",
        description="Déclaration sur l'honneur ; saisissez 0 si aucune.",
        validators=[InputRequired("Saisissez le montant des aides de minimis, 0 si aucune")],
    )
    submit = SubmitField("Enregistrer et continuer", widget=GovSubmitInput())

    def answers(self) -> dict:
        answers = {}
        for name in (
            "regime_general",
            "contributions_up_to_date",
            "prevention_contract_in_progress",
            "injunction_or_surcharge",
            "occupational_health_member",
            "staff_representatives_informed",
        ):
            answers[name] = getattr(self, name).data == "oui"
        answers["duerp_updated_on"] = self.duerp_updated_on.data
        answers["prevention_contract_ended_on"] = self.prevention_contract_ended_on.data
        answers["de_minimis_aid"] = self.de_minimis_aid.amount
        return answers


class LineForm(FlaskForm):
    """One quote (or paid invoice): ``kind`` choices are the programme's line kinds (set by the view)."""

    kind = FrenchRadioField("Type de dépense", validators=[InputRequired("Choisissez le type de dépense")])
    supplier = StringField(
        "Fournisseur",
        widget=TextInput(),
        validators=[
            DataRequired("Saisissez le nom du fournisseur"),
            Length(max=200, message="Le nom du fournisseur doit faire au plus 200 caractères"),
        ],
    )
    number = StringField(
        "Numéro du devis",
        widget=TextInput(),
        validators=[
            DataRequired("Saisissez le numéro du devis"),
            Length(max=60, message="Le numéro doit faire au plus 60 caractères"),
        ],
        render_kw={"params": {"classes": "govuk-input--width-20"}},
    )
    issued_on = FrenchDateField(
        "Date du devis", what="La date du devis", validators=[DataRequired("Saisissez la date du devis")]
    )
    paid_on = FrenchDateField("Date du paiement", what="La date du paiement", validators=[Optional()])
    amount_ht = AmountField(
        "Montant hors taxes",
        what="Le montant hors taxes",
        description="En euros, par exemple 12 500,00",
        validators=[InputRequired("Saisissez le montant hors taxes")],
    )
    condition = FrenchCheckboxesField(
        "Le matériel est-il…",
        choices=[SelectChoice("loue", "loué ou en crédit-bail"), SelectChoice("occasion", "d'occasion")],
        description="Cochez ce qui s'applique : ces dépenses ne sont pas subventionnées.",
        validators=[Optional()],
    )
    document = FileField("Le devis en PDF", widget=FileInput())
    submit = SubmitField("Enregistrer la ligne", widget=GovSubmitInput())

    def for_invoices(self) -> None:
        """The same form for a paid invoice: its number, date and payment date."""
        self.number.label.text = "Numéro de la facture"
        self.number.validators[0].message = "Saisissez le numéro de la facture"
        self.issued_on.label.text = "Date de la facture"
        self.issued_on.what = "La date de la facture"
        self.issued_on.validators = [DataRequired("Saisissez la date de la facture")]
        self.paid_on.validators = [DataRequired("Saisissez la date du paiement")]
        self.document.label.text = "La facture acquittée en PDF"

    def validate_paid_on(self, field):
        if field.data and self.issued_on.data and field.data < self.issued_on.data:
            raise ValidationError("La date du paiement doit être le jour de la facture ou après")

    def values(self) -> dict:
        return {
            "kind": self.kind.data,
            "supplier": self.supplier.data.strip(),
            "number": self.number.data.strip(),
            "issued_on": self.issued_on.data,
            "paid_on": self.paid_on.data,
            "amount_ht": self.amount_ht.amount,
            "leased": "loue" in (self.condition.data or []),
            "second_hand": "occasion" in (self.condition.data or []),
        }


class ConfirmForm(FlaskForm):
    """A POST with its CSRF token (send, remove a line, start the payment request, close a budget)."""


class AcceptForm(FlaskForm):
    amount = AmountField(
        "Montant réservé",
        what="Le montant réservé",
        validators=[InputRequired("Saisissez le montant réservé")],
    )
    submit = SubmitField("Accepter la réservation", widget=GovSubmitInput())


class ComplementForm(FlaskForm):
    missing = TextAreaField(
        "Ce qui manque",
        widget=TextArea(),
        validators=[
            DataRequired("Indiquez ce qui manque au dossier"),
            Length(max=2000, message="Le texte doit faire au plus 2 000 caractères"),
        ],
    )
    due_on = FrenchDateField(
        "À compléter avant le",
        what="La date limite",
        validators=[DataRequired("Saisissez la date limite du complément")],
    )
    submit = SubmitField("Demander un complément", widget=GovSubmitInput())


class RefuseForm(FlaskForm):
    reasons = TextAreaField(
        "Motifs du refus",
        widget=TextArea(),
        validators=[
            DataRequired("Indiquez les motifs du refus"),
            Length(max=2000, message="Le texte doit faire au plus 2 000 caractères"),
        ],
    )
    submit = SubmitField("Refuser", widget=GovSubmitInput())


class PayForm(FlaskForm):
    submit = SubmitField("Valider le versement", widget=GovSubmitInput())
