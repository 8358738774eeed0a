"""The company administrator's activity journal (the audit trail read back, SPEC §1): what the
company's users did, what happened to their accounts, what tiers déclarants did on its
establishments and what the platform deleted on its own; nothing of other companies, of the firms'
other clients, or of the caisse."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Service, UserKind
from app.services import audit
from app.services.draft_retention import expire_drafts
from app.services.drafts import start_draft
from app.workflows import get_workflow
from tests.factories import make_caisse, make_company, make_establishment, make_firm, make_user

JOURNAL = "/admin/journal"
DAY = timedelta(days=1)


@pytest.fixture
def world():
    company = make_company("Transports Lorrains")
    head = make_establishment(company, departement="75", head_office=True, name="Siège Paris")
    metz = make_establishment(company, departement="57", name="Dépôt de Metz")
    other_company = make_company("Autre SAS")
    elsewhere = make_establishment(other_company, departement="67", name="Ailleurs")
    firm = make_firm("Cabinet de l'Est", mandates=[(metz, Service.DAT), (elsewhere, Service.DAT)])
    w = {
        "head": head,
        "metz": metz,
        "elsewhere": elsewhere,
        "admin": make_user(
            "admin@transports.test",
            company=company,
            admin=True,
            full_name="Alice Martin",
            grants=[(head, "*")],
        ),
        "paul": make_user("paul@transports.test", company=company, full_name="Paul Weber"),
        "stranger": make_user("zoe@autre.test", company=other_company, full_name="Zoé Autre"),
        "accountant": make_user(
            "compta@cabinet.test", kind=UserKind.FIRM, firm_id=firm.id, full_name="Hélène Fischer"
        ),
        "agent": make_user(
            "agent@cpam.test",
            kind=UserKind.CPAM,
            caisse_id=make_caisse("CPAM de Moselle", departements="57").id,
            full_name="Agent Caisse",
        ),
    }
    db.session.commit()
    return w


def event(user, action, *, establishment=None, at=None, object_type=None, object_id=None, details=None):
    """An event written the way the application writes one (audit.record), by ``user``."""
    row = audit.record(
        action,
        object_type,
        object_id,
        establishment_id=establishment.id if establishment else None,
        actor=user,
        **(details or {}),
    )
    row.ip = "192.0.2.7"
    if at is not None:
        row.at = at
    db.session.commit()
    return row


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def test_the_journal_lists_the_company_users_and_the_firms_work_on_its_establishments_only(
    client, login, world
):
    event(world["paul"], "draft.save", establishment=world["metz"], object_type="draft", object_id="12")
    event(world["paul"], "read", establishment=world["metz"], object_type="letter", object_id="8")
    event(
        world["accountant"],
        "dat.read",
        establishment=world["metz"],
        object_type="dat_declaration",
        object_id="3",
        details={"reference": "DAT-2026-000003"},
    )
    event(world["accountant"], "dat.read", establishment=world["elsewhere"], object_type="dat_declaration")
    event(world["accountant"], "login")
    event(world["stranger"], "login")
    event(world["agent"], "dat.caisse_read", establishment=world["metz"], object_type="dat_declaration")
    login(world["admin"])

    page = text(client.get(JOURNAL))
    assert "Paul Weber" in page and "Étape enregistrée" in page and "Brouillon n° 12" in page
    assert "Dépôt de Metz" in page and "192.0.2.7" in page
    assert "Courrier consulté" in page and "Courrier LUCIE n° 8" in page
    assert "Hélène Fischer" in page and "Cabinet de l'Est (tiers déclarant)" in page
    assert "Déclaration d'accident consultée" in page and "Déclaration d'accident DAT-2026-000003" in page
    assert "Ailleurs" not in page  # the firm's other client
    assert page.count("Hélène Fischer") == 2  # her work on Metz, and the filter's option; not her sign-in
    assert "Zoé Autre" not in page
    assert "Agent Caisse" not in page
    assert "Connexion" in page  # the administrator's own sign-in, through the form


def test_failed_sign_ins_on_a_company_account_are_in_the_journal_under_the_account(client, login, world):
    """Nobody is signed in when a password is wrong: the line is about the account concerned."""
    paul = world["paul"]
    for email in (paul.email, world["stranger"].email, "inconnu@transports.test"):  # ours, another's, none
        form = {"email": email, "password": "pas-le-bon", "csrf_token": client.csrf("/connexion")}
        assert client.post("/connexion", data=form).status_code == 422
    login(world["admin"])

    page = text(client.get(JOURNAL, query_string={"personne": paul.id}))
    assert re.search(
        r"Paul Weber<br><span[^>]*>paul@transports.test</span></td> <td[^>]*>Échec de connexion", page
    )
    assert "Zoé Autre" not in page and "inconnu@transports.test" not in page
    page = text(client.get(JOURNAL))
    assert page.count("Échec de connexion") == 1


def test_a_draft_the_platform_deleted_after_the_retention_period_is_in_the_journal(client, login, world):
    draft = start_draft(world["admin"], get_workflow("coordonnees"), world["metz"])
    saved = draft.updated_at
    expire_drafts(now=saved + 84 * DAY)  # the warning, then the deletion 7 days later
    assert expire_drafts(now=saved + 92 * DAY) == (0, 1)
    login(world["admin"])

    page = text(client.get(JOURNAL))
    assert re.search(
        r"La plateforme</td> <td[^>]*>Brouillon supprimé automatiquement \(durée de conservation dépassée\)"
        rf"</td> <td[^>]*>Brouillon n° {draft.id}<br><span[^>]*>Dépôt de Metz</span></td> <td[^>]*></td>",
        page,
    )


def test_reading_the_journal_is_recorded_in_it(client, login, world):
    login(world["admin"])
    client.get(JOURNAL)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "journal.read")).user_id == (
        world["admin"].id
    )
    assert "Consultation du journal d'activité" in text(client.get(JOURNAL))


def test_the_journal_is_filtered_by_person_and_by_paris_days(client, login, world):
    paul, admin = world["paul"], world["admin"]
    event(paul, "logout", at=datetime(2026, 3, 10, 22, 30, tzinfo=UTC))  # 10 March, 23 h 30 in Paris
    event(paul, "password_changed", at=datetime(2026, 3, 10, 23, 30, tzinfo=UTC))  # 11 March in Paris
    invited_at = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    event(admin, "user_invited", at=invited_at, object_type="user", object_id=str(paul.id))
    login(admin)

    page = text(client.get(JOURNAL, query_string={"personne": paul.id}))
    assert "Déconnexion" in page and "Mot de passe modifié" in page
    assert "Utilisateur invité" not in page and "Consultation du journal" not in page

    page = text(client.get(JOURNAL, query_string={"du": "2026-03-10", "au": "2026-03-10"}))
    assert "Déconnexion" in page and "10/03/2026 23 h 30" in page
    assert re.search(r"Utilisateur invité</td> <td[^>]*>Paul Weber", page)
    assert "Mot de passe modifié" not in page


def test_a_person_of_another_company_in_the_url_is_ignored(client, login, world):
    event(world["stranger"], "login")
    login(world["admin"])
    page = text(client.get(JOURNAL, query_string={"personne": world["stranger"].id}))
    assert "Zoé Autre" not in page
    assert "Alice Martin" in page  # the filter fell back to everyone


def test_a_date_that_does_not_exist_is_refused_in_french_next_to_the_field(client, login, world):
    login(world["admin"])
    response = client.get(JOURNAL, query_string={"du": "2026-02-30"})
    page = text(response)
    assert "Il y a un problème" in page
    assert "La date de début doit être une date réelle" in page
    assert page.startswith("<!DOCTYPE html>") and "<title>Erreur : Journal d'activité" in page


def test_older_activity_is_one_page_further(client, login, world):
    for i in range(60):
        event(world["paul"], "draft.read", object_type="draft", object_id=str(1000 + i))
    login(world["admin"])
    first = text(client.get(JOURNAL))
    assert "Brouillon n° 1059" in first and "Brouillon n° 1010" not in first
    older = re.search(r'href="(/admin/journal\?avant=\d+[^"]*)" rel="next"', first).group(1)
    second = text(client.get(older))
    assert "Brouillon n° 1000" in second and "Brouillon n° 1059" not in second
    # Each page its own title (RGAA 8.6).
    assert "<title>Journal d'activité – Services AT/MP</title>" in first
    assert "<title>Journal d'activité, page 2 – Services AT/MP</title>" in second
    assert "Revenir à l'activité la plus récente" in second
    assert 'rel="next"' not in second


def test_only_the_company_administrator_reads_the_journal(client, login, world):
    login(world["paul"])
    assert client.get(JOURNAL).status_code == 403
    client.post("/deconnexion", data={"csrf_token": client.csrf("/")})
    login(world["accountant"])
    assert client.get(JOURNAL).status_code == 404


def csv_rows(response) -> list[list[str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def test_the_journal_downloads_as_a_csv_for_a_french_spreadsheet_with_the_same_filters(client, login, world):
    paul = world["paul"]
    event(paul, "logout", at=datetime(2026, 3, 10, 22, 30, tzinfo=UTC))
    event(world["admin"], "user_invited", object_type="user", object_id=str(paul.id))
    login(world["admin"])

    response = client.get(f"{JOURNAL}.csv", query_string={"personne": paul.id})
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="journal-activite.csv"'
    rows = csv_rows(response)
    assert rows[0][:5] == ["Date", "Personne", "Adresse e-mail", "Tiers déclarant", "Action"]
    assert rows[1:] == [
        ["2026-03-10 23:30:00", "Paul Weber", "paul@transports.test", "", "Déconnexion", "", "", "192.0.2.7"]
    ]
    assert db.session.scalar(select(AuditEvent.details).where(AuditEvent.action == "journal.export")) == {
        "lines": 1
    }


def test_a_name_a_spreadsheet_would_run_as_a_formula_is_made_inert(client, login, world):
    world["paul"].full_name = '=HYPERLINK("http://evil.example","x")'
    db.session.commit()
    event(world["paul"], "logout")
    login(world["admin"])
    rows = csv_rows(client.get(f"{JOURNAL}.csv", query_string={"personne": world["paul"].id}))
    assert rows[1][1] == """'=HYPERLINK("http://evil.example","x")"""


def test_an_export_beyond_the_limit_says_what_is_missing(client, login, world, monkeypatch):
    monkeypatch.setattr("app.services.journal.EXPORT_LIMIT", 3)
    for _ in range(4):
        event(world["paul"], "logout")
    login(world["admin"])
    rows = csv_rows(client.get(f"{JOURNAL}.csv", query_string={"personne": world["paul"].id}))
    assert len(rows) == 1 + 3 + 1
    assert rows[-1] == ["Plus de 3 lignes : choisissez des dates pour exporter la suite."]


def test_a_subsidy_line_and_an_observation_read_in_french(client, login, world):
    event(
        world["paul"],
        "subventions.line_save",
        establishment=world["metz"],
        object_type="subsidy_line",
        object_id=7,
    )
    event(
        world["paul"],
        "qrpro.observation",
        establishment=world["metz"],
        object_type="case_file",
        object_id=3,
        details={"reference": "AT-2026-000003"},
    )
    login(world["admin"])
    page = text(client.get(JOURNAL))
    assert (
        "Ligne de demande de subvention enregistrée" in page and "Ligne de demande de subvention n° 7" in page
    )
    assert "Observations déposées" in page and "Dossier AT/MP AT-2026-000003" in page
    assert "subventions.line_save" not in page and "case_file" not in page


RECORDED = re.compile(r'audit\.record\(\s*"(?P<action>[^"]+)"(?:,\s*"(?P<object>[^"]+)")?')


def test_every_event_the_platform_records_has_a_french_label():
    """The journal shows each event by its French label, and what it concerns by a French name: an
    event the journal does not know would show a code (« subventions.line_save », « case_file n° 3 »)
    to the company's administrator. Every ``audit.record`` of the app, read from its source."""
    from pathlib import Path

    from app.services.journal import ACTION_LABELS, OBJECT_LABELS

    root = Path(__file__).resolve().parents[2] / "app"
    found = [m for path in root.rglob("*.py") for m in RECORDED.finditer(path.read_text(encoding="utf-8"))]
    assert len(found) > 60  # the pattern still finds the calls
    assert sorted({m["action"] for m in found} - set(ACTION_LABELS) - {"read"}) == []
    objects = {m["object"] for m in found if m["object"]} - {"user", "establishment"}  # by name, own line
    assert sorted(objects - set(OBJECT_LABELS)) == []
