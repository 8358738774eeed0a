"""The four QR Pro questionnaires (issue 13, item 5) answered through the pages without JavaScript: a
draft of each, opened by the caisse on its party of a case, filled page after page (groups included),
reaches « Vérifier vos réponses » and is sent once, pinned to its version."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.domain.cases import Party, SubjectKind
from app.extensions import db
from app.models import Case, Submission
from app.services import drafts
from app.services.qrpro.timeline import timeline
from tests.qrpro_parties_support import VALID
from tests.qrpro_parties_support import Party as Browser
from tests.subjects_support import World


@pytest.fixture
def world(app):
    result = app.test_cli_runner().invoke(args=["forms", "load"])
    assert result.exit_code == 0, result.output
    for code in VALID:
        assert f"{code} version 1" in result.output
    return World()


@pytest.mark.parametrize(
    ("code", "party", "kind", "rows"),
    [
        ("qr-at-employeur", Party.EMPLOYER, "AT", ["Le chef d'équipe, pour un inventaire.", "Témoin 1"]),
        ("qr-at-victime", Party.VICTIM, "AT", ["Un carton est tombé sur mon épaule.", "Infirmerie"]),
        ("qr-mp-employeur", Party.EMPLOYER, "MP", ["Cariste", "6,5", "Le siège du chariot"]),
        ("qr-mp-victime", Party.VICTIM, "MP", ["Emploi 2", "Bâtiments de l'Est", "7,5"]),
    ],
)
def test_a_filled_questionnaire_reaches_its_summary_and_is_sent_once(app, world, code, party, kind, rows):
    case: Case = world.case_a
    case.kind = kind
    db.session.commit()
    user = world.victim if party == Party.VICTIM else world.employer
    workflow = drafts.workflow_or_404(code, SubjectKind.CASE_PARTY)
    draft = drafts.start_case_draft(user, workflow, case, party)
    db.session.commit()

    browser = Browser(app, user)
    location = browser.fill(draft.id, code)
    assert location.endswith(f"/brouillons/{draft.id}/verifier"), location
    summary = browser.page(location)
    assert "Vérifier vos réponses" in summary
    for row in rows:
        assert row in summary, row

    response = browser.post(f"/demarches/brouillons/{draft.id}/envoyer", {})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    again = browser.post(f"/demarches/brouillons/{draft.id}/envoyer", {})
    assert again.status_code == 303
    (submission,) = db.session.scalars(select(Submission).where(Submission.draft_id == draft.id))
    assert submission.form_version == 1 and submission.party == str(party)
    assert submission.data["case"]["reference"] == case.reference
    assert submission.reference.startswith(workflow.reference_prefix + "-")
    # The party's timeline (the proof of the contradictory phase, item 8) dates the answer; the
    # other party's does not show it.
    other = Party.EMPLOYER if party == Party.VICTIM else Party.VICTIM
    answered = [e for e in timeline(case, party) if e.label == "Questionnaire retourné"]
    assert [(e.at, e.detail) for e in answered] == [
        (submission.submitted_at, f"référence {submission.reference}")
    ]
    assert not [e for e in timeline(case, other) if e.label == "Questionnaire retourné"]
