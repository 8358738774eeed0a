"""« Mes dossiers » (issue 13, item 6): the victim's cases, each with their questionnaire — to start,
in progress, sent, late —, its due date in local time with its legal basis, reaching the draft on the
workflow pages; leaving and resuming where they stopped."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Draft
from app.models.types import utcnow
from tests.qrpro_parties_support import Party as Browser
from tests.qrpro_parties_support import fresh
from tests.subjects_support import World


@pytest.fixture
def world(app):
    result = app.test_cli_runner().invoke(args=["forms", "load"])
    assert result.exit_code == 0, result.output
    world = World()
    # Sent by the caisse: due (20 jours francs) at the end of Friday 27 November 2026, Metz time.
    world.case_a.closes_at = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
    db.session.commit()
    return world


def test_mes_dossiers_shows_the_questionnaire_its_due_date_and_legal_basis(app, world):
    world.case_a.closes_at = utcnow() + timedelta(days=10)
    db.session.commit()
    victim = Browser(app, world.victim)
    page = victim.page("/mes-dossiers/")
    assert "Dossier AT-2026-000001" in page and "Dépôt de Metz" in page
    assert "AT-2026-000002" not in page  # the other victim's case
    assert "À commencer" in page and "Commencer le questionnaire" in page
    assert (
        "20 jours francs à compter de la réception du questionnaire (article R441-8 I du code de la "
        "sécurité sociale)" in page
    )
    assert "(heure locale)" in page

    # Start from the case page: the victim's draft of the AT model, on the workflow pages.
    case_page = victim.page(f"/mes-dossiers/{world.case_a.id}")
    action = re.search(r'action="([^"]+/victime/commencer)"', case_page).group(1)
    assert action == f"/demarches/qr-at-victime/dossiers/{world.case_a.id}/victime/commencer"
    response = victim.client.post(action, data={"csrf_token": victim.token})
    assert response.status_code == 303 and response.headers["Location"].endswith("/etapes/quand")
    draft = db.session.scalar(select(Draft).where(Draft.case_id == world.case_a.id))
    assert (draft.workflow, draft.party, draft.created_by_id) == ("qr-at-victime", "victime", world.victim.id)

    # Two pages answered, then « Enregistrer et reprendre plus tard ».
    victim.fill(draft.id, "qr-at-victime", until="recit")
    response = victim.post(
        f"/demarches/brouillons/{draft.id}/etapes/recit", {"action": "later", "activite": "Je rangeais"}
    )
    assert response.status_code == 303
    page = victim.page("/mes-dossiers/")
    assert (
        "En cours" in page
        and "Reprendre le questionnaire" in page
        and "Commencer le questionnaire" not in page
    )
    response = victim.client.get(f"/demarches/brouillons/{draft.id}")
    assert response.headers["Location"].endswith("/etapes/recit")
    assert "Je rangeais" in victim.page(response.headers["Location"])

    # The rest, then sent: « Envoyé » with its reference, no more button to resume.
    location = victim.fill(draft.id, "qr-at-victime")
    assert location.endswith("/verifier")
    assert victim.post(f"/demarches/brouillons/{draft.id}/envoyer", {}).status_code == 303
    page = victim.page("/mes-dossiers/")
    assert "Envoyé" in page and "QRATV-" in page and "Reprendre le questionnaire" not in page
    assert fresh(draft.id).submitted_at is not None


def test_the_due_date_is_local_and_a_late_questionnaire_cannot_be_started(app, world):
    victim = Browser(app, world.victim)
    page = victim.page("/mes-dossiers/")
    # 27 November 23:00 UTC is midnight in Metz: the due date reads « … 27 novembre 2026 à 24 h 00 ».
    assert "vendredi 27 novembre 2026 à 24\u00a0h\u00a000 (heure locale)" in page
    assert "Délai expiré" in page and "Commencer le questionnaire" not in page
    response = victim.client.post(
        f"/demarches/qr-at-victime/dossiers/{world.case_a.id}/victime/commencer",
        data={"csrf_token": victim.token},
    )
    assert response.status_code == 303
    assert db.session.scalar(select(Draft).where(Draft.case_id == world.case_a.id)) is None


def test_an_mp_case_shows_its_own_model_and_delay_and_a_case_without_questionnaire_says_so(app, world):
    world.case_a.kind = "MP"
    world.case_a.closes_at = utcnow() + timedelta(days=25)
    db.session.commit()
    victim = Browser(app, world.victim)
    page = victim.page(f"/mes-dossiers/{world.case_a.id}")
    assert "Maladie professionnelle" in page
    assert "30 jours francs à compter de la réception du questionnaire (article R461-9 II" in page
    assert "/demarches/qr-mp-victime/dossiers/" in page
    world.case_a.closes_at = None
    db.session.commit()
    page = victim.page(f"/mes-dossiers/{world.case_a.id}")
    assert "La caisse ne vous a pas encore envoyé de questionnaire pour ce dossier." in page
