"""The rows people read: ``step_rows(step, data)`` turns a step's JSON answers into them; the
check-answers page, the declaration's page and the PDFs all use it, so they always say the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time

from app.domain import dat as rules
from app.domain.identifiers import format_nir
from app.forms.workflows import format_time, french_date

from .choices import (
    CATEGORIES,
    CONSEQUENCES,
    CONTRATS,
    COTES,
    LIEUX,
    MODES_CONNAISSANCE,
    NATIONALITES,
    NATURES_LESIONS,
    OUI_NON,
    QUALIFICATIONS,
    RESERVES,
    SEXES,
    SIEGES,
    TEMOINS,
    WITNESS_SLOTS,
)


def _date(value) -> str:
    return french_date(date.fromisoformat(value)) if value else ""


def _time(value) -> str:
    return format_time(time.fromisoformat(value)) if value else ""


def _label(labels: Mapping[str, str], value) -> str:
    return labels.get(value, value or "") if value is not None else ""


def _labels(labels: Mapping[str, str], values) -> str:
    return ", ".join(labels.get(v, v) for v in values or [])


def _lines(*parts) -> str:
    return "\n".join(p for p in parts if p)


def _address(data: Mapping, prefix: str = "") -> str:
    city = " ".join(p for p in (data.get(f"{prefix}code_postal"), data.get(f"{prefix}commune")) if p)
    return _lines(data.get(f"{prefix}adresse"), city)


def _seniority(data: Mapping) -> str:
    years_, months_ = data.get("anciennete_annees"), data.get("anciennete_mois")
    if years_ is None and months_ is None:
        return ""
    if not all(re.fullmatch(r"[0-9]{1,2}", v or "0") for v in (years_, months_)):
        return _lines(years_ and f"{years_} an(s)", months_ and f"{months_} mois")
    y, m = int(years_ or 0), int(months_ or 0)
    parts = []
    if y:
        parts.append(f"{y} an{'s' if y > 1 else ''}")
    if m or not y:
        parts.append(f"{m} mois")
    return " et ".join(parts)


def _schedule(data: Mapping) -> str:
    ranges = []
    for i in (1, 2):
        start, end = data.get(f"horaire{i}_debut"), data.get(f"horaire{i}_fin")
        if start and end:
            ranges.append(f"de {_time(start)} à {_time(end)}")
    return ", puis ".join(ranges)


def _person(data: Mapping, prefix: str) -> str:
    name = " ".join(p for p in (data.get(f"{prefix}nom"), data.get(f"{prefix}prenom")) if p)
    return _lines(name, data.get(f"{prefix}adresse"))


def step_rows(step: str, data: Mapping) -> list[tuple[str, str, str]]:
    """(field, label, answer) of a step's JSON answers, as people read them. Unanswered optional
    questions show as empty strings; hidden conditional ones are left out."""
    d = data
    rows: list[tuple[str, str, str]] = []

    def row(field: str, label: str, value: str | None, *, when: bool = True) -> None:
        if when:
            rows.append((field, label, value or ""))

    if step == "employeur":
        row("siret", "SIRET", d.get("siret"))
        row("raison_sociale", "Raison sociale", d.get("raison_sociale"))
        row("adresse", "Adresse", _address(d))
        row("telephone", "Téléphone", d.get("telephone"))
        row("courriel", "Adresse e-mail", d.get("courriel"))
        row("code_risque", "Code risque", d.get("code_risque"))
        row("sst_nom", "Service de santé au travail", _lines(d.get("sst_nom"), d.get("sst_adresse")))
    elif step == "victime":
        row("nir", "Numéro de sécurité sociale", format_nir(d.get("nir")))
        row("nom", "Nom de famille", d.get("nom"))
        row("nom_usage", "Nom d'usage", d.get("nom_usage"))
        row("prenoms", "Prénoms", d.get("prenoms"))
        row("date_naissance", "Date de naissance", _date(d.get("date_naissance")))
        row("sexe", "Sexe", _label(SEXES, d.get("sexe")))
        row("nationalite", "Nationalité", _label(NATIONALITES, d.get("nationalite")))
        row("adresse", "Adresse", _address(d))
        row("telephone", "Téléphone", d.get("telephone"))
        row("date_embauche", "Date d'embauche", _date(d.get("date_embauche")))
        row("profession", "Profession", d.get("profession"))
        row("qualification", "Qualification", _label(QUALIFICATIONS, d.get("qualification")))
        row("anciennete_annees", "Ancienneté dans le poste", _seniority(d))
        contrat = _label(CONTRATS, d.get("contrat"))
        if d.get("contrat") == "autre" and d.get("contrat_autre"):
            contrat = f"Autre : {d['contrat_autre']}"
        row("contrat", "Type de contrat", contrat)
        row(
            "eu_raison_sociale",
            "Entreprise utilisatrice",
            _lines(d.get("eu_raison_sociale"), f"SIRET {d.get('eu_siret')}" if d.get("eu_siret") else ""),
            when=d.get("contrat") == "interim",
        )
    elif step == "accident":
        moment = _date(d.get("date_accident"))
        if d.get("heure_accident"):
            moment += f" à {_time(d.get('heure_accident'))}"
        row("date_accident", "Date et heure", moment)
        row("horaire1_debut", "Horaires de travail ce jour-là", _schedule(d))
        lieu = _label(LIEUX, d.get("lieu"))
        if rules.is_trajet(d.get("lieu")):
            lieu += " (accident de trajet)"
        row("lieu", "Lieu", lieu)
        row("lieu_precis", "Adresse ou lieu précis", d.get("lieu_precis"))
        row("activite", "Activité de la victime", d.get("activite"))
        row("nature", "Nature de l'accident", d.get("nature"))
        row("objet", "Objet en cause", d.get("objet"))
        row("circonstances", "Circonstances", d.get("circonstances"))
    elif step == "lesions":
        row("siege", "Siège des lésions", _labels(SIEGES, d.get("siege")))
        row("cote", "Côté", _label(COTES, d.get("cote")))
        natures = _labels(NATURES_LESIONS, d.get("nature_lesions"))
        if d.get("nature_autre"):
            natures += f" ({d['nature_autre']})"
        row("nature_lesions", "Nature des lésions", natures)
        consequences = _label(CONSEQUENCES, d.get("consequences"))
        if d.get("consequences") == "deces" and d.get("date_deces"):
            consequences += f" le {_date(d['date_deces'])}"
        row("consequences", "Conséquences", consequences)
        row("transport", "Transportée ou évacuée vers", d.get("transport"))
    elif step == "connaissance":
        row("mode", "Connaissance de l'accident", _label(MODES_CONNAISSANCE, d.get("mode")))
        moment = _date(d.get("date_connaissance"))
        if d.get("heure_connaissance"):
            moment += f" à {_time(d.get('heure_connaissance'))}"
        row("date_connaissance", "Connu de l'employeur le", moment)
        registre = _label(OUI_NON, d.get("registre"))
        if d.get("registre") == "oui":
            registre = f"Oui, le {_date(d.get('registre_date'))}, n° {d.get('registre_numero') or ''}"
        row("registre", "Registre des accidents bénins", registre)
        if d.get("registre") == "oui" and d.get("date_soins"):
            care = _date(d.get("date_soins"))
            if d.get("heure_soins"):
                care += f" à {_time(d.get('heure_soins'))}"
            row("date_soins", "Soins ou arrêt de travail connus de l'employeur le", care)
    elif step == "temoins":
        row("temoins", "Témoins", _label(TEMOINS, d.get("temoins")))
        for slot in WITNESS_SLOTS:
            row(
                f"temoin{slot}_nom",
                f"Témoin n° {slot}",
                _person(d, f"temoin{slot}_"),
                when=bool(d.get(f"temoin{slot}_nom")),
            )
        row("pp_nom", "Première personne avisée", _person(d, "pp_"), when=bool(d.get("pp_nom")))
        tiers = _label(OUI_NON, d.get("tiers"))
        if d.get("tiers") == "oui":
            assureur = f"Assureur : {d['tiers_assureur']}" if d.get("tiers_assureur") else ""
            tiers = _lines(d.get("tiers_nom"), d.get("tiers_adresse"), assureur)
        row("tiers", "Tiers responsable", tiers)
        police = _label(OUI_NON, d.get("police"))
        if d.get("police") == "oui":
            police = f"Oui, par {d.get('police_autorite') or ''}"
        row("police", "Rapport de police", police)
    elif step == "reserves":
        row("reserves", "Réserves motivées", _label(RESERVES, d.get("reserves")))
        if d.get("reserves") == "oui":
            row("categorie", "Portant sur", _label(CATEGORIES, d.get("categorie")))
            row("motivation", "Motivation", d.get("motivation"))
            if d.get("piece_jointe"):
                row("piece_jointe", "Pièce jointe", d.get("piece_jointe_nom") or "fichier joint")
    return rows


def row_value(step: str, data: Mapping, field: str) -> str:
    """The text :func:`step_rows` shows for one field (the PDFs' boxes)."""
    return next((value for name, _, value in step_rows(step, data) if name == field), "")
