"""An accident first written in the registre des accidents bénins (SPEC §2.1; CSS R441-5, D441-1), declared
because it later led to medical care or a stoppage: step 5 asks the register's date and number AND when the
employer learnt of the care or stoppage; the 48 hours run from that moment, so such a declaration is not
*hors délai* merely because the accident is older. The form, the live due time, the receipt and the PDFs say
which moment started the 48 hours, and why."""

from __future__ import annotations

import html
import io
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import Declaration
from tests.dat_support import accident_day, fresh_draft, parts, valid_answers


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def pdf_text(response) -> str:
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def registre_answers():
    """An accident ten days ago, known at once and written in the register; the care it led to was
    learnt of yesterday at 10 h 00 (so its 48 hours still run, whatever the day of the test run)."""
    accident_on = accident_day() - timedelta(days=9)
    answers = valid_answers(accident_on=accident_on, nom="Benin")
    answers["connaissance"].update(
        {
            "registre": "oui",
            "registre_date": parts(accident_on),
            "registre_numero": "12",
            "date_soins": parts(accident_day()),
            "heure_soins": "10:00",
        }
    )
    return answers


def test_a_registre_accident_declared_within_48_hours_of_the_care_is_not_late(client, world, declarant):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, registre_answers())
    response = declarant.submit(draft_id)
    assert response.status_code == 303
    declaration = db.session.scalar(select(Declaration))
    assert declaration.late is False
    # The 48 hours ran from the care, not from the (ten days older) knowledge of the accident.
    assert declaration.due_at > declaration.known_at + timedelta(days=9)


def test_without_the_register_the_same_dates_are_late(client, world, declarant):
    answers = registre_answers()
    answers["connaissance"]["registre"] = "non"
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, answers)
    assert declarant.submit(draft_id).status_code == 303
    assert db.session.scalar(select(Declaration)).late is True


def test_step_5_asks_when_the_care_or_stoppage_was_learnt_of(client, world, declarant):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, registre_answers(), until="connaissance")
    data = {**registre_answers()["connaissance"]}
    del data["date_soins"], data["heure_soins"]
    page = text(declarant.post_step(draft_id, "connaissance", data))
    assert (
        "Saisissez la date à laquelle l'employeur a appris les soins médicaux ou l'arrêt de travail" in page
    )
    assert (
        "Saisissez l'heure à laquelle l'employeur a appris les soins médicaux ou l'arrêt de travail" in page
    )
    # Before the knowledge of the accident itself: refused, with the reason.
    before = {**registre_answers()["connaissance"], "date_soins": parts(accident_day() - timedelta(days=9))}
    before["heure_soins"] = "9:00"
    page = text(declarant.post_step(draft_id, "connaissance", before))
    assert (
        "Vous avez appris les soins ou l'arrêt de travail après avoir eu connaissance de l'accident" in page
    )


def test_step_5_and_the_live_due_time_say_from_which_moment_the_48_hours_run(client, world, declarant):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, registre_answers(), until="temoins")
    page = text(client.get(f"/demarches/brouillons/{draft_id}/etapes/connaissance"))
    assert "À transmettre avant le" in page and "Délai dépassé" not in page
    assert "d'abord inscrit au registre des accidents bénins" in page
    assert "articles R441-5 et D441-1" in page
    c = registre_answers()["connaissance"]
    live = text(
        client.get(
            f"/dat/brouillons/{draft_id}/echeance",
            query_string=[
                *[("date_connaissance", p) for p in c["date_connaissance"]],
                ("heure_connaissance", c["heure_connaissance"]),
                ("registre", "oui"),
                *[("date_soins", p) for p in c["date_soins"]],
                ("heure_soins", c["heure_soins"]),
            ],
            headers={"HX-Request": "true"},
        )
    )
    assert "À transmettre avant le" in live and "registre des accidents bénins" in live
    assert "hors délai" not in live
    # The drafts list reads the same start.
    assert "Délai de 48 heures dépassé" not in text(client.get("/demarches/"))
    assert fresh_draft(draft_id).answers["connaissance"]["registre"] == "oui"


def test_receipt_pages_and_pdfs_say_which_moment_started_the_48_hours(client, world, declarant):
    draft_id = declarant.start(world.metz)
    declarant.fill(draft_id, registre_answers())
    declarant.submit(draft_id)
    reference = db.session.scalar(select(Declaration.reference))
    receipt = text(client.get(f"/dat/declarations/{reference}/accuse-reception"))
    assert "Point de départ des 48 heures" in receipt
    assert "d'abord inscrit au registre des accidents bénins" in receipt and "hors délai" not in receipt
    assert "Point de départ des 48 heures" in text(client.get(f"/dat/declarations/{reference}"))
    for kind in ("accuse-reception", "declaration"):
        content = pdf_text(client.get(f"/dat/declarations/{reference}/{kind}.pdf"))
        assert "point de départ des 48 heures" in content.lower(), kind
        assert "registre des accidents bénins" in content and "R441-5" in content, kind
    assert (
        "soins ou arrêt de travail connus de l'employeur le"
        in pdf_text(client.get(f"/dat/declarations/{reference}/declaration.pdf")).lower()
    )
