"""Walk the whole URL map for every role of company A against company B's objects.

No route may show B's data to A (404 or 403, never 200), and no state-changing route may accept a
request without a CSRF token (or, for the bearer-token API, without a token). A route whose URL
arguments this test does not know fails it: a new route must say here which object it exposes.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Case,
    CaseDocument,
    Draft,
    Habilitation,
    Mandate,
    NotifiedRate,
    Service,
    User,
    UserKind,
)
from app.services import compte as compte_service
from app.services import lucie as lucie_service
from app.services import outbox
from app.services.simple_pdf import make_pdf
from app.services.uploads import save_upload
from tests.dat_support import make_declaration, valid_answers
from tests.factories import (
    PASSWORD,
    make_caisse,
    make_company,
    make_establishment,
    make_firm,
    make_user,
)

MARKER = "SECRETB"  # appears in every object of company B
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Routes that exist only with DEV_MAIL_PAGE (never in production) or serve public files.
NOT_WALKED = {"static", "dev.mails", "dev.mail"}
# Bearer-token API: no session, no CSRF; without a token it must answer 401.
TOKEN_ROUTES = {"api.create_letter", "api.get_letter"}
# URL arguments that are not an object of company B (a form type, an e-mailed token, a form model version).
NOT_OBJECTS = {"workflow_name", "token", "model_code", "version"}
PUBLIC_GET = {
    "auth.login",
    "auth.forgot_password",
    "main.accessibility",
    "ops.health",
    "ops.metrics",
    "api.openapi",
}


@pytest.fixture
def world(app):
    """Company A (with every role) and company B (the objects A must never reach)."""
    caisse_a = make_caisse("CPAM A", departements="75")
    carsat_a = make_caisse("Carsat A", kind="carsat", departements="75")
    company_a = make_company("Entreprise A")
    head_a = make_establishment(company_a, departement="75", head_office=True)
    other_a = make_establishment(company_a, departement="75")
    firm_a = make_firm("Cabinet A", mandates=[(other_a, "*")])
    company_b = make_company(f"Entreprise {MARKER}")
    b1 = make_establishment(company_b, departement="57", name=f"Usine {MARKER}", head_office=True)
    caisse_b = make_caisse("CPAM B", departements="57")
    firm_b = make_firm(f"Cabinet {MARKER}", mandates=[(b1, Service.DAT)])

    roles = {
        "anonymous": None,
        "admin_a": make_user(company=company_a, admin=True, grants=[(head_a, "*")]),
        "employer_a": make_user(company=company_a, grants=[(head_a, "*")]),
        "employer_a_no_service": make_user(company=company_a, grants=[(other_a, Service.LUCIE)]),
        "firm_a": make_user(kind=UserKind.FIRM, firm_id=firm_a.id),
        "cpam_a": make_user(kind=UserKind.CPAM, caisse_id=caisse_a.id),
        "carsat_a": make_user(kind=UserKind.CARSAT, caisse_id=carsat_a.id),
        "victim_a": make_user(kind=UserKind.VICTIM),  # a victim's account: no company (issue 12)
    }
    admin_b = make_user(company=company_b, admin=True, grants=[(b1, "*")], full_name=f"Admin {MARKER}")
    user_b = make_user(company=company_b, grants=[(b1, "*")], full_name=f"Salarié {MARKER}")
    make_user(kind=UserKind.FIRM, firm_id=firm_b.id, full_name=f"Comptable {MARKER}")
    make_user(kind=UserKind.CPAM, caisse_id=caisse_b.id, full_name=f"Agent {MARKER}")
    draft_b = Draft(
        workflow="coordonnees",
        establishment_id=b1.id,
        created_by_id=user_b.id,
        updated_by_id=user_b.id,
        answers={"motif": {"motif": f"Motif {MARKER}"}},
        valid_steps=[],
        current_step="nature",
    )
    db.session.add(draft_b)
    victim_b = make_user(kind=UserKind.VICTIM, full_name=f"Victime {MARKER}")
    case_b = Case(reference=f"AT-{MARKER}", kind="AT", establishment_id=b1.id, victim_id=victim_b.id)
    db.session.add(case_b)
    db.session.flush()
    upload_b = save_upload(
        _pdf_stream(), f"{MARKER}.pdf", establishment_id=b1.id, user_id=user_b.id, service=Service.DAT
    )
    lucie_service.subscribe(b1)
    db.session.commit()
    address_b = lucie_service.add_alert_address(admin_b, b1, f"alerte-{MARKER.lower()}@b.example")
    letter_b = lucie_service.deposit_letter(
        establishment=b1,
        letter_type="notification_decision",
        title=f"Décision {MARKER}",
        document=make_pdf(f"Courrier {MARKER}"),
        source="agent",
        caisse=caisse_b,
        case_reference=f"REF-{MARKER}",
    ).letter
    message_b = outbox.enqueue(f"{MARKER}@b.example", f"Objet {MARKER}", "corps", kind="test")
    db.session.commit()
    reference_b = make_declaration(user_b, b1, valid_answers(nom=MARKER))
    db.session.add(
        NotifiedRate(
            establishment_id=b1.id, year=2025, mode="collectif", rate=1, calculation=json.dumps({MARKER: 1})
        )
    )
    attestation_b = compte_service.issue_attestation(user_b, b1)
    mandate_b = db.session.scalars(select(Mandate).where(Mandate.firm_id == firm_b.id)).first()
    # A piece of the dossier of B's AT case (QR Pro, issue 13: the case opened from B's declaration).
    document_b = CaseDocument(
        case_id=db.session.scalar(select(Case.id).where(Case.reference == reference_b)),
        kind="piece",
        title=f"Pièce {MARKER}",
        sha256=upload_b.sha256,
        filename=f"{MARKER}.pdf",
        media_type="application/pdf",
        size=upload_b.size,
    )
    db.session.add(document_b)
    db.session.commit()
    args = {
        "user_id": user_b.id,
        "draft_id": draft_b.id,
        "upload_id": upload_b.id,
        "letter_id": letter_b.id,
        "mandate_id": mandate_b.id,
        "establishment_id": b1.id,
        "siret": b1.siret,
        "address_id": address_b.id,
        "message_id": message_b.id,
        "step_name": "motif",
        "index": 0,  # an item of an "add another" group (app/views/workflow_items.py)
        "workflow_name": "coordonnees",
        "token": "jeton-invalide",
        "reference": reference_b,
        "kind": "declaration",
        "case_id": case_b.id,
        "party": "victime",
        "model_code": "exemple-questionnaire",
        "version": 1,
        "year": 2025,
        "code": attestation_b.code,
        "document_id": document_b.id,
    }
    return {"roles": roles, "args": args, "company_b": company_b.id, "b1": b1.id}


def _pdf_stream():
    import io

    return io.BytesIO(make_pdf("Pièce jointe"))


def _rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_WALKED:
            continue
        yield rule


def _names_an_object(rule) -> bool:
    return bool(set(rule.arguments) - NOT_OBJECTS)


def _url(rule, args) -> str:
    unknown = [a for a in rule.arguments if a not in args]
    assert not unknown, f"{rule.endpoint}: teach this test which object {unknown} designates"
    return rule.build({a: args[a] for a in rule.arguments}, append_unknown=False)[1]


def _client_for(app, user):
    client = app.test_client()
    if user is not None:
        token = client.csrf("/connexion")
        response = client.post(
            "/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code in (302, 303), user.email
    return client


def _snapshot_b(company_b: int, b1: int) -> str:
    """A digest of everything of company B that a write could change."""
    from app.models.dat import Declaration, DeclarationEvent, ReserveAddendum
    from app.models.lucie import Letter, LucieAlertAddress, LucieSubscription

    rows = []
    for model, where in (
        (User, User.company_id == company_b),
        (Draft, Draft.establishment_id == b1),
        (Habilitation, Habilitation.establishment_id == b1),
        (Mandate, Mandate.establishment_id == b1),
        (Letter, Letter.establishment_id == b1),
        (LucieSubscription, LucieSubscription.establishment_id == b1),
        (LucieAlertAddress, LucieAlertAddress.establishment_id == b1),
        (Declaration, Declaration.establishment_id == b1),
        (DeclarationEvent, DeclarationEvent.declaration_id.in_(select(Declaration.id))),
        (ReserveAddendum, ReserveAddendum.declaration_id.in_(select(Declaration.id))),
    ):
        for obj in db.session.scalars(select(model).where(where).order_by(model.id)):
            cols = {c.key: getattr(obj, c.key) for c in model.__table__.columns}
            rows.append((model.__name__, json.dumps(cols, default=str, sort_keys=True)))
    db.session.rollback()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_no_route_shows_company_b_objects_to_any_role_of_company_a(app, world):
    failures = []
    for role, user in world["roles"].items():
        client = _client_for(app, user)
        for rule in _rules(app):
            if "GET" not in rule.methods:
                continue
            url = _url(rule, world["args"])
            response = client.get(url)
            body = response.get_data().decode("utf-8", "replace")
            if rule.endpoint in TOKEN_ROUTES:
                ok = response.status_code == 401
            elif (
                not _names_an_object(rule) or rule.endpoint in PUBLIC_GET or rule.endpoint.startswith("auth.")
            ):
                ok = response.status_code in (200, 302, 401, 403, 404) and MARKER not in body
            else:
                ok = response.status_code in (302, 403, 404) and MARKER not in body
                if response.status_code == 302:
                    ok = ok and "/connexion" in response.headers["Location"]
            if not ok:
                failures.append(f"{role} GET {url} → {response.status_code}")
    assert not failures, "\n".join(failures)


def test_every_state_changing_route_refuses_a_request_without_csrf(app, world):
    failures = []
    for role in ("anonymous", "employer_a", "cpam_a"):
        client = _client_for(app, world["roles"][role])
        for rule in _rules(app):
            for method in sorted(rule.methods & STATE_CHANGING):
                url = _url(rule, world["args"])
                response = client.open(url, method=method, data={"anything": "x"})
                expected = 401 if rule.endpoint in TOKEN_ROUTES else 400
                if response.status_code != expected:
                    failures.append(f"{role} {method} {url} → {response.status_code} (expected {expected})")
    assert not failures, "\n".join(failures)


def test_no_write_with_a_valid_csrf_token_reaches_company_b(app, world):
    before = _snapshot_b(world["company_b"], world["b1"])
    failures = []
    for role, user in world["roles"].items():
        client = _client_for(app, user)
        token = client.csrf("/connexion" if user is None else "/")
        for rule in _rules(app):
            if rule.endpoint in TOKEN_ROUTES or rule.endpoint.startswith("auth."):
                continue
            if not _names_an_object(rule):
                continue  # forms without an object in the URL: B's ids are posted below
            for method in sorted(rule.methods & STATE_CHANGING):
                url = _url(rule, world["args"])
                data = {"csrf_token": token, "version": "1", "confirm": "y", "active": "y"}
                response = client.open(url, method=method, data=data)
                ok = response.status_code in (403, 404) or (
                    user is None
                    and response.status_code == 302
                    and "/connexion" in response.headers["Location"]
                )
                if not ok:
                    failures.append(f"{role} {method} {url} → {response.status_code}")
    assert not failures, "\n".join(failures)
    assert _snapshot_b(world["company_b"], world["b1"]) == before


def test_forms_that_name_an_object_in_their_fields_refuse_company_b_ids(app, world):
    """The admin and start forms take establishment or user ids in their fields: forging B's."""
    before = _snapshot_b(world["company_b"], world["b1"])
    b1 = world["b1"]
    drafts_of_b = len(db.session.scalars(select(Draft).where(Draft.establishment_id == b1)).all())
    client = _client_for(app, world["roles"]["admin_a"])
    token = client.csrf("/")
    posts = {
        "/admin/utilisateurs/inviter": {
            "full_name": "Intrus",
            "email": "intrus@a.example",
            "habilitations": [f"{b1}:{s}" for s in Service],
        },
        "/admin/mandats/nouveau": {"establishment": str(b1), "firm_siret": "0", "services": ["dat"]},
        "/demarches/coordonnees/commencer": {"establishment": str(b1), "establishment_id": str(b1)},
    }
    for url, data in posts.items():
        response = client.post(url, data={**data, "csrf_token": token})
        assert response.status_code in (200, 400, 403, 404, 422), url
        assert MARKER not in response.get_data(as_text=True), url
    assert _snapshot_b(world["company_b"], world["b1"]) == before
    assert len(db.session.scalars(select(Draft).where(Draft.establishment_id == b1)).all()) == drafts_of_b
