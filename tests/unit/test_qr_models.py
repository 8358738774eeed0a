"""The four QR Pro questionnaires (issue 13, SPEC §3.2) as form models: each file passes the schema and
the load checks, answers for a party of a case, and asks what SPEC §3.2 lists — the conditional pages
follow the answers, and the "add another" groups are those the SPEC names (witnesses, successive jobs
and exposure periods)."""

from __future__ import annotations

import pytest

from app.domain.accounts import Service
from app.domain.cases import SubjectKind
from app.workflows.factory import build_workflow
from app.workflows.form_models import MODELS_DIR, read_directory, read_file

CODES = ("qr-at-employeur", "qr-at-victime", "qr-mp-employeur", "qr-mp-victime")


def workflow(code: str):
    return build_workflow(read_file(MODELS_DIR / f"{code}-v1.yaml"))


def question_ids(code: str) -> set[str]:
    flow = workflow(code)
    ids = set()
    for step in flow.steps:
        form = step.group.item_form if step.group is not None else step.form_class
        ids.update(field.name for field in form())
    return ids


def test_the_four_models_load_with_the_repository_s_checks():
    codes = {d.code: d for d in read_directory()}  # the whole directory, as `flask forms load` reads it
    for code in CODES:
        definition = codes[code]
        assert definition.version == 1 and definition.status == "published"
        flow = build_workflow(definition)
        assert flow.subject_kinds == frozenset({SubjectKind.CASE_PARTY})
        assert flow.service == Service.QRPRO
    prefixes = {codes[c].reference_prefix for c in CODES}
    assert prefixes == {"QRATE", "QRATV", "QRMPE", "QRMPV"}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # AT employer: circumstances as known, time/place, schedule, tasks, witnesses, prior events, reserves.
        (
            "qr-at-employeur",
            {
                "circonstances_recit",
                "accident_date",
                "lieu",
                "horaire_debut",
                "taches_moment",
                "temoin_nom",
                "antecedents_connus",
                "motifs",
                "motifs_detail",
                "reserves_pieces",
                "pieces_jointes",
            },
        ),
        # AT victim: what happened, where, when, who was informed and when, witnesses, first care.
        (
            "qr-at-victime",
            {
                "recit_faits",
                "lieu",
                "accident_date",
                "accident_heure",
                "informe_qui",
                "informe_date",
                "temoin_nom",
                "soins_jour",
                "soins_par",
                "pieces_jointes",
            },
        ),
        # MP: jobs with exposure periods, tasks, gestures and durations, protective equipment.
        (
            "qr-mp-employeur",
            {
                "poste_intitule",
                "poste_debut",
                "poste_fin",
                "poste_taches",
                "poste_gestes",
                "poste_heures_jour",
                "epi_fournis",
                "epi_liste",
                "pieces_jointes",
            },
        ),
        (
            "qr-mp-victime",
            {
                "emploi_employeur",
                "emploi_debut",
                "emploi_fin",
                "emploi_taches",
                "emploi_gestes",
                "emploi_heures_jour",
                "emploi_protections",
                "epi_fournis",
                "pieces_jointes",
            },
        ),
    ],
)
def test_each_model_asks_what_the_spec_lists(code, expected):
    assert expected <= question_ids(code)


def test_the_groups_are_the_witnesses_and_the_successive_jobs():
    groups = {
        code: {(s.name, s.group.group_name, s.group.min_items) for s in workflow(code).steps if s.group}
        for code in CODES
    }
    assert groups == {
        "qr-at-employeur": {("temoins_liste", "temoins", 0)},
        "qr-at-victime": {("temoins_liste", "temoins", 1)},
        "qr-mp-employeur": {("postes_liste", "postes", 1)},
        "qr-mp-victime": {("emplois_liste", "emplois", 1)},
    }


def names(flow, answers) -> list[str]:
    return [step.name for step in flow.path(answers)]


def test_the_reserves_page_follows_the_employer_s_answer():
    flow = workflow("qr-at-employeur")
    assert "reserves_motifs" not in names(flow, {"reserves": {"reserves_emises": "non"}})
    assert "reserves_motifs" in names(flow, {"reserves": {"reserves_emises": "oui"}})
    assert "tache_inhabituelle" in names(flow, {"taches": {"taches_habituelles": "non"}})
    assert "tache_inhabituelle" not in names(flow, {"taches": {"taches_habituelles": "oui"}})


def test_the_victim_s_witnesses_commuting_and_first_care_pages_follow_the_answers():
    flow = workflow("qr-at-victime")
    none = names(flow, {"temoins_question": {"temoins_presents": "non"}, "ou": {"lieu": "lieu_habituel"}})
    assert "temoins_liste" not in none and "trajet" not in none and "soins_detail" not in none
    some = names(
        flow,
        {
            "temoins_question": {"temoins_presents": "oui"},
            "ou": {"lieu": "trajet"},
            "soins": {"soins_jour": "oui"},
        },
    )
    assert {"temoins_liste", "trajet", "soins_detail"} <= set(some)


def test_the_mp_pages_follow_the_answers():
    employer = workflow("qr-mp-employeur")
    assert "depart" in names(employer, {"emploi": {"en_activite": "non"}})
    assert "depart" not in names(employer, {"emploi": {"en_activite": "oui"}})
    assert "avis_motifs" not in names(employer, {"avis": {"exposition": "oui"}})
    assert "avis_motifs" in names(employer, {"avis": {"exposition": "non"}})
    victim = workflow("qr-mp-victime")
    assert "protections_detail" not in names(victim, {"protections": {"epi_fournis": "non"}})
    assert "protections_detail" in names(victim, {"protections": {"epi_fournis": "parfois"}})
    assert "loisirs_detail" in names(victim, {"loisirs": {"activites": "oui"}})
