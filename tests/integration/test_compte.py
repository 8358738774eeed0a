"""Compte AT/MP (issue 15): reference loads, the Carsat's imports, the yearly notification through LUCIE, the
employer's screens and their authorization, the attestation and its public check, the barèmes' CSV.

The rate of the Metz establishment for 2025 (Alsace-Moselle, E = 80: mixed) is worked out by hand:
cases of 2021–2023 at the CTN A 2025 barème: 5 × 297 (IT < 4 days) + 41 132 (IT > 150 days) + 2 × 528
(IT 4–15 days) = 43 673 €, the commuting accident excluded; over 1 400 000 € → gross 3,1195 %;
net (3,1195 + 0,18) × 1,56 + 0,19 + 0,03 = 5,36722 %; f = (0,075 × 80 − 1,25) / 10 = 0,475;
mixed 0,475 × 5,36722 + 0,525 × 5,20 = 5,2794295 % → 5,28 %.
"""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import (
    AuditEvent,
    Claim,
    Letter,
    LucieSubscription,
    NotifiedRate,
    OutboxMessage,
    ReferenceLoad,
    Service,
    UserKind,
    WageYear,
)
from app.services import compte
from app.services.uploads import read_blob
from tests.compte_support import World, csv_bytes, make_world, pdf_text
from tests.factories import make_establishment, make_firm, make_user
from tests.integration.test_pdf_accessibility import assert_tagged


@pytest.fixture
def world(app) -> World:
    return make_world()


# -- reference data -------------------------------------------------------------------------------------


def test_reference_reload_of_the_same_file_changes_nothing_and_a_correction_is_a_version(world):
    before = db.session.scalar(select(func.count()).select_from(ReferenceLoad))
    again = compte.load_reference_file("couts-moyens")
    assert again.ok and again.rows == 0
    assert db.session.scalar(select(func.count()).select_from(ReferenceLoad)) == before
    corrected = compte.load_reference(
        "majorations", b"year,m1_pct,m2_ratio,m3_pct,m4_pct\n2025,0.18,0.56,0.20,0.03\n", filename="m.csv"
    )
    assert corrected.ok and corrected.rows == 1
    assert db.session.scalar(select(func.count()).select_from(ReferenceLoad)) == before + 1
    assert str(compte.compute(world.metz, 2025)[0].majorations.m3) == "0.2000"
    assert len(compte.baremes()) == 11  # the file's rows, once
    assert [(r.year, r.ctn, r.scope) for r in compte.baremes(2024)][:2] == [
        (2024, "A", "national"),
        (2024, "B", "57/67/68"),
    ]


def test_reference_load_with_a_bad_line_writes_nothing(app):
    data = b"# test\nyear,m1_pct,m2_ratio,m3_pct,m4_pct\n2030,0.2,0.5,0.1,0\n2031,abc,0.5,0.1,0\n"
    report = compte.load_reference("majorations", data, filename="m.csv")
    assert report.errors == [(4, "M1 : « abc » n'est pas un nombre.")]
    assert db.session.scalar(select(func.count()).select_from(ReferenceLoad)) == 0


# -- imports --------------------------------------------------------------------------------------------


def test_wage_import_reports_every_bad_line_by_number_and_saves_nothing(world):
    report = compte.import_wages(
        csv_bytes(
            "siret;annee;masse_salariale;effectif",
            f"{world.metz.siret};2024;500000;81",
            f"{world.metz.siret};2024;510000;81",
            "12345678901234;2024;1000;1",
            f"{world.metz.siret};20x5;1000;1",
            f"{world.metz.siret};2025;-3;1",
        )
    )
    assert report.errors == [
        (3, "Ligne en double : la ligne 2 donne déjà cette donnée."),
        (4, "SIRET 12345678901234 : aucun établissement de votre circonscription ne porte ce SIRET."),
        (5, "Année : « 20x5 » n'est pas un nombre entier positif."),
        (6, "Masse salariale : le montant ne peut pas être négatif."),
    ]
    assert db.session.scalar(select(func.count()).where(WageYear.year == 2024)) == 0


def test_wage_import_is_idempotent_and_updates_a_corrected_line(world):
    lines = ("siret;annee;masse_salariale;effectif", f"{world.metz.siret};2023;480000;80")
    again = compte.import_wages(csv_bytes(*lines))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    corrected = compte.import_wages(csv_bytes(lines[0], f"{world.metz.siret};2023;480001;80"))
    assert (corrected.created, corrected.updated) == (0, 1)
    assert db.session.scalar(select(func.count()).select_from(WageYear)) == 3


def test_a_carsat_screen_import_refuses_a_siret_outside_its_area(world):
    report = compte.import_wages(
        csv_bytes("siret;annee;masse_salariale;effectif", f"{world.paris.siret};2023;1;1"),
        departements=["57"],
    )
    assert report.errors[0][0] == 2 and "circonscription" in report.errors[0][1]


def test_claim_import_checks_type_and_ip(world):
    report = compte.import_claims(
        csv_bytes(
            "reference;siret;type;date_reconnaissance;annee_imputation;jours_arret;taux_ip",
            f"X-1;{world.metz.siret};chute;2023-01-01;2023;1;",
            f"X-2;{world.metz.siret};at;31/02/2023;2023;1;",
            f"X-3;{world.metz.siret};at;2023-01-01;2023;1;120",
        )
    )
    assert [line for line, _ in report.errors] == [2, 3, 4]
    assert "at, mp ou trajet" in report.errors[0][1]
    assert "n'est pas une date" in report.errors[1][1]
    assert "entre 0 et 100" in report.errors[2][1]
    assert db.session.scalar(select(func.count()).where(Claim.reference.like("X-%"))) == 0


def test_cli_import_refuses_a_bad_file_with_line_numbers(app, world, tmp_path):
    path = tmp_path / "salaires.csv"
    path.write_bytes(csv_bytes("siret;annee;masse_salariale;effectif", f"{world.metz.siret};2024;abc;3"))
    result = app.test_cli_runner().invoke(args=["compte", "import-salaires", str(path)])
    assert result.exit_code == 1
    assert "Ligne 2 : Masse salariale : « abc » n'est pas un nombre." in result.output
    assert "rien n'a été enregistré" in result.output


# -- notification ---------------------------------------------------------------------------------------


def test_notification_computes_the_worked_rate_and_deposits_one_letter(world):
    first = compte.notify_establishment(world.metz, 2025)
    assert first.status == "created", first.message
    rate = first.rate
    calc = json.loads(rate.calculation)
    assert calc["mode"] == "mixte" and calc["headcount"] == "80"
    assert calc["risk_value"] == "43673.00"
    assert str(rate.rate) == "5.28"
    assert calc["net"].startswith("5.2794295")
    assert [c["reference"] for c in calc["cases"] if c["trajet"]] == ["TR-23-1"]
    letter = db.session.get(Letter, rate.letter_id)
    assert letter.letter_type == "notification_taux" and letter.caisse_id == world.carsat.id
    document = read_blob(letter.sha256)
    assert_tagged(
        document, "Notification du taux AT/MP 2025 — Béton de l'Est — Metz", expected=("/H1", "/H2", "/Table")
    )
    text = pdf_text(document)
    assert "Notification du taux de cotisation AT/" in text and "Taux 2025 5,28 %" in text
    assert "43 673 €" in text and "5,28 %" in text and "commission de recours amiable" in text
    alerts = db.session.scalars(
        select(OutboxMessage.recipient).where(OutboxMessage.kind == "lucie_alert")
    ).all()
    assert alerts == ["paie@beton.test"]

    again = compte.notify_establishment(world.metz, 2025)
    assert again.status == "exists"
    assert db.session.scalar(select(func.count()).select_from(Letter)) == 1


def test_the_next_year_is_capped_against_the_notified_rate(world):
    compte.notify_establishment(world.metz, 2025)
    # 2026: no collective rate loaded for 2026 → not computable, said in French, nothing stored.
    outcome = compte.notify_establishment(world.metz, 2026)
    assert outcome.status == "error" and "Taux collectif 2026" in outcome.message
    assert db.session.scalar(select(func.count()).where(NotifiedRate.year == 2026)) == 0


def test_cli_notify_is_resumable_and_reports(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["compte", "notify", "--year", "2025"])
    assert result.exit_code == 0, result.output
    assert "Taux 2025 : 1 notifié(s), 0 déjà notifié(s), 0 non calculable(s)." in result.output
    result = runner.invoke(args=["compte", "notify", "--year", "2025"])
    assert "Taux 2025 : 0 notifié(s)" in result.output  # nothing left to do


# -- screens and authorization --------------------------------------------------------------------------


def test_the_employer_reads_the_calculation_step_by_step(client, login, world):
    compte.notify_establishment(world.metz, 2025)
    login(world.employer)
    index = client.get("/compte-atmp/").get_data(as_text=True)
    assert "5,28\u00a0% en 2025 (taux mixte)" in index
    page = client.get(f"/compte-atmp/{world.metz.id}").get_data(as_text=True)
    assert "Taux 2025" in page and "5,28" in page and "Non lu" in page
    assert "AT-24-1" in page  # imputed to 2024: weighs on 2026 to 2028
    assert "<svg" in page and "<title id=" in page and "Indice de fréquence" in page
    detail = client.get(f"/compte-atmp/{world.metz.id}/taux/2025").get_data(as_text=True)
    assert "43\u202f673\u00a0€" in detail and "1\u202f400\u202f000\u00a0€" in detail
    assert "0,4750" in detail and "D242-6-15" in detail and "Taux mixte" in detail
    assert client.get(f"/compte-atmp/{world.metz.id}/comprendre").status_code == 200
    reads = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "compte.read_rate")).all()
    assert reads == ["compte.read_rate"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [("stranger", 404), ("firm_without_mandate", 404), ("firm_with_lucie_only", 403), ("other_carsat", 404)],
)
def test_someone_without_the_compte_on_the_establishment_is_refused(client, login, world, who, expected):
    compte.notify_establishment(world.metz, 2025)
    code = compte.issue_attestation(world.employer, world.metz).code
    if who.startswith("firm"):
        firm = make_firm(
            "Cabinet", mandates=[(world.metz, Service.LUCIE)] if who == "firm_with_lucie_only" else []
        )
        user = make_user("cabinet@test.example", kind=UserKind.FIRM, firm_id=firm.id)
        db.session.commit()
    else:
        user = world.stranger if who == "stranger" else world.other_agent
    login(user)
    for path in ("", "/taux/2025", "/comprendre", f"/attestations/{code}.pdf"):
        assert client.get(f"/compte-atmp/{world.metz.id}{path}").status_code == expected, path


def test_a_tiers_declarant_reading_the_notification_does_not_notify_it(client, login, world):
    """SPEC §1, §4: the company itself must open it; a firm's read is audited, not a consultation."""
    rate = compte.notify_establishment(world.metz, 2025).rate
    firm = make_firm("Cabinet", mandates=[(world.metz, Service.LUCIE), (world.metz, Service.COMPTE)])
    user = make_user("cabinet@test.example", kind=UserKind.FIRM, firm_id=firm.id)
    db.session.commit()
    login(user)
    token = client.csrf(f"/courriers/{rate.letter_id}")
    client.post(f"/courriers/{rate.letter_id}/ouvrir", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Letter, rate.letter_id).first_consulted_at is None
    reads = db.session.scalars(select(AuditEvent.user_id).where(AuditEvent.action == "read")).all()
    assert user.id in reads


def test_a_firm_with_a_compte_mandate_sees_the_account(client, login, world):
    firm = make_firm("Cabinet", mandates=[(world.metz, Service.COMPTE)])
    user = make_user("cabinet@test.example", kind=UserKind.FIRM, firm_id=firm.id)
    db.session.commit()
    login(user)
    assert client.get(f"/compte-atmp/{world.metz.id}").status_code == 200


def test_the_carsat_agent_notifies_one_establishment_from_its_screen(client, login, world):
    login(world.agent)
    found = client.get("/compte-atmp/", query_string={"siret": world.metz.siret})
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/compte-atmp/{world.metz.id}")
    assert client.get("/compte-atmp/", query_string={"siret": world.paris.siret}).status_code == 404
    token = client.csrf(f"/compte-atmp/{world.metz.id}")
    response = client.post(
        f"/compte-atmp/{world.metz.id}/notifier", data={"annee": "2025", "csrf_token": token}
    )
    assert response.status_code == 200
    assert "Taux 2025 notifié : 5,28" in response.get_data(as_text=True)
    bad = client.post(f"/compte-atmp/{world.metz.id}/notifier", data={"annee": "", "csrf_token": token})
    assert bad.status_code == 422
    assert 'id="annee-error"' in bad.get_data(as_text=True)
    assert "Saisissez l&#39;année du taux à notifier" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(NotifiedRate)) == 1


def test_attestation_pdf_and_its_public_check(client, login, world):
    compte.notify_establishment(world.metz, 2025)
    login(world.employer)
    token = client.csrf(f"/compte-atmp/{world.metz.id}")
    response = client.post(f"/compte-atmp/{world.metz.id}/attestation", data={"csrf_token": token})
    assert response.status_code == 303
    pdf = client.get(response.headers["Location"])
    assert pdf.mimetype == "application/pdf"
    assert_tagged(
        pdf.data, "Attestation des indicateurs AT/MP — Béton de l'Est — Metz", expected=("/H1", "/Table")
    )
    text = pdf_text(pdf.data)
    assert "Attestation des indicateurs AT/MP" in text and world.metz.siret in text and "Taux mixte" in text
    code = response.headers["Location"].rsplit("/", 1)[1].removesuffix(".pdf")
    assert code in text

    anonymous = client.application.test_client()
    ok = anonymous.get(
        "/compte-atmp/verifier-attestation", query_string={"code": code.lower().replace("-", " ")}
    )
    assert ok.status_code == 200 and "Attestation authentique" in ok.get_data(as_text=True)
    wrong = anonymous.get("/compte-atmp/verifier-attestation", query_string={"code": "AAAA-BBBB-CCCC"})
    assert wrong.status_code == 404 and "Aucune attestation ne porte ce code" in wrong.get_data(as_text=True)
    assert wrong.get_data(as_text=True).count("<title>Erreur : ") == 1
    empty = anonymous.get("/compte-atmp/verifier-attestation", query_string={"code": " "})
    assert empty.status_code == 422 and "Saisissez le code de vérification" in empty.get_data(as_text=True)


def test_baremes_page_andcsv_bytes(client, world):
    page = client.get("/compte-atmp/baremes")
    assert page.status_code == 200 and "40\u202f783\u00a0€" in page.get_data(as_text=True)
    csv_response = client.get("/compte-atmp/baremes.csv", query_string={"annee": 2024})
    lines = csv_response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("year;ctn;scope;it1_lt4")
    assert lines[1].startswith("2024;A;national;287")
    assert len(lines) == 6


def test_the_carsat_import_screen_lists_refused_lines_and_saves_nothing(client, login, world):
    login(world.agent)
    token = client.csrf("/compte-atmp/imports")
    bad = csv_bytes(
        "siret;annee;masse_salariale;effectif",
        f"{world.metz.siret};2024;1000;3",
        f"{world.paris.siret};2024;1;1",
    )
    response = client.post(
        "/compte-atmp/imports",
        data={"kind": "salaires", "fichier": (io.BytesIO(bad), "s.csv"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "rien n'a été enregistré" in page
    assert "circonscription" in page  # Paris is outside the Carsat Alsace-Moselle
    assert db.session.scalar(select(func.count()).where(WageYear.year == 2024)) == 0
    good = csv_bytes("siret;annee;masse_salariale;effectif", f"{world.metz.siret};2024;1000;3")
    response = client.post(
        "/compte-atmp/imports",
        data={"kind": "salaires", "fichier": (io.BytesIO(good), "s.csv"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and "1 ligne(s) ajoutée(s)" in response.get_data(as_text=True)
    missing = client.post("/compte-atmp/imports", data={"csrf_token": token})
    assert missing.status_code == 422 and "Choisissez le fichier CSV" in missing.get_data(as_text=True)


def test_the_import_screen_is_only_for_carsat_agents(client, login, world):
    login(world.employer)
    assert client.get("/compte-atmp/imports").status_code == 404


def test_a_taux_unique_pools_the_wages_and_claims_of_the_same_code_risque(world):
    """SPEC §5.2: one rate for the company's establishments of the same risk category, on their pooled
    costs and wages. Thionville (same code risque, taux unique) doubles the wages, adds no claim: the
    gross rate halves, 43 673 € over 2 800 000 €."""
    thionville = make_establishment(world.company, departement="57", name="Béton de l'Est — Thionville")
    db.session.commit()
    profiles = csv_bytes("siret;ctn;taux_unique", f"{world.metz.siret};A;oui", f"{thionville.siret};A;oui")
    assert compte.import_profiles(profiles).ok
    wages = ["siret;annee;masse_salariale;effectif"]
    wages += [
        f"{thionville.siret};{year};{amount};0"
        for year, amount in ((2021, 450000), (2022, 470000), (2023, 480000))
    ]
    assert compte.import_wages(csv_bytes(*wages)).ok
    calculation, context = compte.compute(world.metz, 2025)
    assert calculation.total_wages == 2800000 and calculation.risk_value == 43673
    assert str(calculation.gross).startswith("1.55975")
    assert context["pooled"] == 2


def test_an_establishment_not_subscribed_to_lucie_keeps_its_rate_and_says_why(world):
    db.session.execute(update(LucieSubscription).values(active=False))
    db.session.commit()
    outcome = compte.notify_establishment(world.metz, 2025)
    assert outcome.status == "created" and outcome.rate.letter_id is None
    assert "n'est pas abonné à LUCIE" in outcome.rate.not_deposited
    assert db.session.scalar(select(func.count()).select_from(Letter)) == 0
