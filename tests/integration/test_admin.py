"""Company administrator's screens (SPEC §1): invite users, grant and revoke habilitations per
establishment × service (a head-office one covers every establishment), admin rights,
deactivation — every change audited, another company's objects invisible."""

import html
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Habilitation, OutboxMessage, Service, User, UserKind
from app.services import access
from tests.factories import (
    PASSWORD,
    make_caisse,
    make_company,
    make_establishment,
    make_firm,
    make_user,
)

NEW_PASSWORD = "Mon-mot-de-passe-tout-neuf"
INVITE_RE = re.compile(r"http://[^/\s]+(/invitation/\S+)")


@pytest.fixture
def world(app):
    company = make_company("Bâtiments de l'Est")
    head = make_establishment(company, departement="75", head_office=True, name="Siège", city="Paris")
    metz = make_establishment(company, departement="57", name="Agence de Metz", city="Metz")
    strasbourg = make_establishment(company, departement="67", name="Agence de Strasbourg", city="Strasbourg")
    admin = make_user("admin@exemple.fr", company=company, admin=True, full_name="Claire Muller")
    staff = make_user(
        "staff@exemple.fr", company=company, grants=[(metz, Service.DAT)], full_name="Paul Staff"
    )
    other = make_company("Concurrent SA")
    other_est = make_establishment(other, head_office=True, name="Siège concurrent")
    other_admin = make_user("admin@concurrent.fr", company=other, admin=True, full_name="Autre Admin")
    other_user = make_user("user@concurrent.fr", company=other, grants=[(other_est, "*")])
    db.session.commit()
    return {
        "company": company,
        "head": head,
        "metz": metz,
        "strasbourg": strasbourg,
        "admin": admin,
        "staff": staff,
        "other_est": other_est,
        "other_admin": other_admin,
        "other_user": other_user,
    }


def post(client, path, data=None, **kw):
    token = client.csrf("/admin/utilisateurs")
    return client.post(path, data={**(data or {}), "csrf_token": token}, **kw)


def save_ticks(client, world, user, ticks, **kw):
    """Send the habilitations form as the page shows it: the company's establishments, ``ticks``
    (field → services) ticked."""
    shown = [str(world[name].id) for name in ("head", "metz", "strasbourg")]
    return post(
        client, f"/admin/utilisateurs/{user.id}/habilitations", {**ticks, "etablissement": shown}, **kw
    )


def audit_rows(action):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def grants_of(user):
    return set(
        db.session.execute(
            select(Habilitation.establishment_id, Habilitation.service).where(Habilitation.user_id == user.id)
        ).all()
    )


def test_users_list_shows_the_company_users_and_their_habilitations(client, login, world):
    login(world["admin"])
    response = client.get("/admin/utilisateurs")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Claire Muller" in body and "Paul Staff" in body
    assert "Agence de Metz" in body and "Déclaration d&#39;accident du travail" in body
    assert "Autre Admin" not in body and "user@concurrent.fr" not in body
    assert "vaut pour tous les établissements" in body


def test_only_a_company_administrator_reaches_the_admin_screens(client, login, world, app):
    assert client.get("/admin/utilisateurs").status_code == 302  # anonymous → sign in
    login(world["staff"])
    assert client.get("/admin/utilisateurs").status_code == 403
    assert client.get(f"/admin/utilisateurs/{world['staff'].id}").status_code == 403


@pytest.mark.parametrize("kind", [UserKind.FIRM, UserKind.CPAM])
def test_non_employers_get_404_on_admin_screens(client, login, world, kind):
    extra = {"firm_id": make_firm().id} if kind == UserKind.FIRM else {"caisse_id": make_caisse().id}
    user = make_user(kind=kind, **extra)
    db.session.commit()
    login(user)
    assert client.get("/admin/utilisateurs").status_code == 404


def test_another_company_user_is_404_for_every_admin_route(client, login, world):
    login(world["admin"])
    target = world["other_user"].id
    assert client.get(f"/admin/utilisateurs/{target}").status_code == 404
    for path in ("habilitations", "administrateur", "desactiver", "reactiver", "invitation"):
        assert post(client, f"/admin/utilisateurs/{target}/{path}").status_code == 404
    assert client.get("/admin/utilisateurs/999999").status_code == 404
    assert client.get("/admin/utilisateurs/abc").status_code == 404
    db.session.expire_all()
    assert db.session.get(User, target).is_active_account


def test_invitation_flow_from_the_form_to_the_first_sign_in(app, client, login, world):
    login(world["admin"])
    page = client.get("/admin/utilisateurs/inviter")
    assert page.status_code == 200
    assert "siège social" in page.get_data(as_text=True).lower()
    response = post(
        client,
        "/admin/utilisateurs/inviter",
        {
            "full_name": "Nina Nouvelle",
            "email": "Nina@Exemple.fr",
            "is_admin": "non",
            f"est_{world['metz'].id}": ["dat", "lucie"],
        },
    )
    assert response.status_code == 302
    invited = db.session.scalar(select(User).where(User.email == "nina@exemple.fr"))
    assert invited.password_hash is None and invited.company_id == world["company"].id
    assert grants_of(invited) == {(world["metz"].id, "dat"), (world["metz"].id, "lucie")}
    assert len(audit_rows("user_invited")) == 1
    assert len(audit_rows("habilitation_granted")) == 2

    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "invitation"))
    assert message.recipient == "nina@exemple.fr"
    assert "Bâtiments de l'Est" in message.body_text
    path = INVITE_RE.search(message.body_text).group(1)

    client.post("/deconnexion", data={"csrf_token": client.csrf("/")})
    page = client.get(path)
    assert page.status_code == 200 and "Activez votre compte" in page.get_data(as_text=True)
    token = client.csrf(path)
    response = client.post(
        path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert client.get(path).status_code == 404  # used once
    login(invited, password=NEW_PASSWORD)
    body = client.get("/").get_data(as_text=True)
    assert "Agence de Metz" in body and "Agence de Strasbourg" not in body
    assert len(audit_rows("invitation_accepted")) == 1


def test_invitation_errors_are_french_and_nothing_is_saved(client, login, world):
    login(world["admin"])
    users_before = db.session.scalar(select(func.count(User.id)))
    cases = [
        (
            {"full_name": "", "email": "", "is_admin": "non"},
            ["Saisissez le nom et le prénom", "Saisissez l&#39;adresse e-mail de la personne"],
        ),
        (
            {"full_name": "X" * 10_000, "email": "x@exemple.fr", "is_admin": "non"},
            ["doivent faire au plus 200 caractères"],
        ),
        (
            {"full_name": "Y", "email": "pas-une-adresse", "is_admin": "non"},
            ["Saisissez une adresse e-mail valide"],
        ),
        (
            {"full_name": "Y", "email": "staff@exemple.fr", "is_admin": "non"},
            ["Un compte existe déjà avec cette adresse e-mail."],
        ),
        (
            {"full_name": "Y", "email": "y@exemple.fr", "is_admin": "peut-être"},
            ["Indiquez si cette personne est administrateur"],
        ),
        (
            {
                "full_name": "Y",
                "email": "y@exemple.fr",
                "is_admin": "non",
                f"est_{world['metz'].id}": ["root"],
            },
            ["Choisissez des services de la liste"],
        ),
    ]
    for data, messages in cases:
        response = post(client, "/admin/utilisateurs/inviter", data)
        assert response.status_code == 422, data
        body = response.get_data(as_text=True)
        assert "Il y a un problème" in body
        for message in messages:
            assert message in body, (message, data)
    assert db.session.scalar(select(func.count(User.id))) == users_before
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_invitation_ignores_habilitations_forged_on_another_company(client, login, world):
    login(world["admin"])
    response = post(
        client,
        "/admin/utilisateurs/inviter",
        {
            "full_name": "Z",
            "email": "z@exemple.fr",
            "is_admin": "non",
            f"est_{world['other_est'].id}": ["dat"],
        },
    )
    assert response.status_code == 302
    invited = db.session.scalar(select(User).where(User.email == "z@exemple.fr"))
    assert grants_of(invited) == set()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Lefèvre<b>bold</b>", "Ce nom ne peut pas contenir de balise ni les signes &lt; et &gt;"),
        ("<script>alert('x')</script>", "Ce nom ne peut pas contenir de balise ni les signes &lt; et &gt;"),
        ("Jean\x00Dupont", "Ce nom contient un caractère invisible ou de contrôle"),
        ("Jean\nDupont", "Ce nom contient un caractère invisible ou de contrôle"),
        ("Jean\u202eDupont", "Ce nom contient un caractère invisible ou de contrôle"),
    ],
)
def test_markup_and_control_characters_in_a_name_are_refused_next_to_the_field(
    client, login, world, name, message
):
    login(world["admin"])
    response = post(
        client,
        "/admin/utilisateurs/inviter",
        {"full_name": name, "email": "evil@exemple.fr", "is_admin": "non"},
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body and 'href="#full_name"' in body
    assert db.session.scalar(select(User).where(User.email == "evil@exemple.fr")) is None


def test_a_name_stored_before_the_rule_is_shown_as_text(client, login, world):
    make_user("evil@exemple.fr", company=world["company"], full_name="<script>alert('x')</script>")
    db.session.commit()
    login(world["admin"])
    body = client.get("/admin/utilisateurs").get_data(as_text=True)
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in body


def test_names_with_accents_apostrophes_and_hyphens_are_accepted(client, login, world):
    login(world["admin"])
    data = {"full_name": "Zoë L'Hôte-Ó Briain", "email": "zoe@exemple.fr", "is_admin": "non"}
    assert post(client, "/admin/utilisateurs/inviter", data).status_code == 302


def test_grant_and_revoke_habilitations_with_audit(client, login, world):
    login(world["admin"])
    staff, metz, strasbourg = world["staff"], world["metz"], world["strasbourg"]
    page = client.get(f"/admin/utilisateurs/{staff.id}")
    assert page.status_code == 200
    response = save_ticks(
        client, world, staff, {f"est_{metz.id}": ["lucie"], f"est_{strasbourg.id}": ["dat", "compte"]}
    )
    assert response.status_code == 303
    assert "1 retirée(s)" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert grants_of(staff) == {(metz.id, "lucie"), (strasbourg.id, "dat"), (strasbourg.id, "compte")}
    granted = audit_rows("habilitation_granted")
    revoked = audit_rows("habilitation_revoked")
    assert sorted((e.establishment_id, e.details["service"]) for e in granted) == sorted(
        [(metz.id, "lucie"), (strasbourg.id, "dat"), (strasbourg.id, "compte")]
    )
    assert [(e.establishment_id, e.details["service"], e.user_id, e.object_id) for e in revoked] == [
        (metz.id, "dat", world["admin"].id, str(staff.id))
    ]
    granted_row = db.session.scalar(
        select(Habilitation).where(Habilitation.service == "compte", Habilitation.user_id == staff.id)
    )
    assert granted_row.granted_by_id == world["admin"].id


def test_the_staff_member_sees_the_change_on_the_next_request(app, client, login, world):
    staff, metz = world["staff"], world["metz"]
    staff_client = app.test_client()
    token = staff_client.csrf("/connexion")
    staff_client.post("/connexion", data={"email": staff.email, "password": PASSWORD, "csrf_token": token})
    assert "Agence de Metz" in staff_client.get("/").get_data(as_text=True)
    login(world["admin"])
    save_ticks(client, world, staff, {})
    body = staff_client.get("/").get_data(as_text=True)
    assert "Agence de Metz" not in body
    assert staff_client.get(f"/etablissements/{metz.id}").status_code == 404


def test_a_head_office_habilitation_covers_every_establishment(client, login, world, app):
    login(world["admin"])
    staff, head = world["staff"], world["head"]
    save_ticks(client, world, staff, {f"est_{head.id}": ["lucie"]})
    page = client.get(f"/admin/utilisateurs/{staff.id}").get_data(as_text=True)
    assert "Déjà accordé par l&#39;habilitation au siège social : Courriers (LUCIE)." in page
    db.session.expire_all()
    access.reset_cache()
    user = db.session.get(User, staff.id)
    for est in (world["head"], world["metz"], world["strasbourg"]):
        assert access.can(user, Service.LUCIE, est)
    assert not access.can_see(user, world["other_est"])
    event = audit_rows("habilitation_granted")[0]
    assert event.details == {"service": "lucie", "head_office": True}


def test_forged_habilitation_values_are_refused_in_french(client, login, world):
    login(world["admin"])
    staff = world["staff"]
    before = grants_of(staff)
    response = save_ticks(client, world, staff, {f"est_{world['metz'].id}": ["dat", "<b>admin</b>"]})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Choisissez des services de la liste" in body and "<b>admin</b>" not in body
    assert grants_of(staff) == before


def test_habilitations_form_answers_a_fragment_to_htmx(client, login, world):
    login(world["admin"])
    staff = world["staff"]
    response = save_ticks(
        client,
        world,
        staff,
        {f"est_{world['metz'].id}": ["dat", "qrpro"]},
        headers={"HX-Request": "true", "HX-Target": "habilitations"},
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert not body.lstrip().lower().startswith("<!doctype")
    assert 'id="habilitations"' in body and "1 ajoutée(s), 0 retirée(s)" in body
    assert (world["metz"].id, "qrpro") in grants_of(staff)


def test_the_last_administrator_keeps_the_admin_rights(client, login, world):
    login(world["admin"])
    admin = world["admin"]
    response = post(client, f"/admin/utilisateurs/{admin.id}/administrateur", {"admin": "non"})
    assert response.status_code == 422
    assert "au moins un administrateur actif" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).is_company_admin
    assert post(client, f"/admin/utilisateurs/{admin.id}/desactiver").status_code == 422


def test_admin_rights_can_be_passed_on_then_given_up(client, login, world):
    login(world["admin"])
    admin, staff = world["admin"], world["staff"]
    assert post(client, f"/admin/utilisateurs/{staff.id}/administrateur", {"admin": "oui"}).status_code == 302
    assert post(client, f"/admin/utilisateurs/{admin.id}/administrateur", {"admin": "non"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, staff.id).is_company_admin
    assert not db.session.get(User, admin.id).is_company_admin
    assert client.get("/admin/utilisateurs").status_code == 403  # takes effect at once
    assert [
        e.action
        for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("company_admin%")))
    ] == [
        "company_admin_granted",
        "company_admin_revoked",
    ]


def test_deactivation_ends_the_sessions_and_reactivation_restores_the_account(app, client, login, world):
    staff = world["staff"]
    staff_client = app.test_client()
    token = staff_client.csrf("/connexion")
    staff_client.post("/connexion", data={"email": staff.email, "password": PASSWORD, "csrf_token": token})
    assert staff_client.get("/").status_code == 200
    login(world["admin"])
    assert post(client, f"/admin/utilisateurs/{staff.id}/desactiver").status_code == 302
    assert staff_client.get("/").status_code == 302
    assert "Désactivé" in client.get("/admin/utilisateurs").get_data(as_text=True)
    assert post(client, f"/admin/utilisateurs/{staff.id}/reactiver").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, staff.id).is_active_account
    assert [e.action for e in audit_rows("user_deactivated") + audit_rows("user_reactivated")] == [
        "user_deactivated",
        "user_reactivated",
    ]


def test_an_administrator_cannot_deactivate_themself(client, login, world):
    login(world["admin"])
    make_user("second-admin@exemple.fr", company=world["company"], admin=True)
    db.session.commit()
    response = post(client, f"/admin/utilisateurs/{world['admin'].id}/desactiver")
    assert response.status_code == 422
    assert "votre propre compte" in response.get_data(as_text=True)


def test_resend_invitation_sends_a_fresh_link(client, login, world):
    invited = make_user("pending@exemple.fr", company=world["company"], password=None)
    db.session.commit()
    login(world["admin"])
    assert "Invitation en attente" in client.get("/admin/utilisateurs").get_data(as_text=True)
    assert post(client, f"/admin/utilisateurs/{invited.id}/invitation").status_code == 302
    assert (
        db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.recipient == invited.email)
        )
        == 1
    )
    response = post(client, f"/admin/utilisateurs/{world['staff'].id}/invitation")
    assert response.status_code == 422
    assert "déjà activé son compte" in response.get_data(as_text=True)


def test_admin_posts_without_csrf_are_refused(client, login, world):
    login(world["admin"])
    response = client.post(f"/admin/utilisateurs/{world['staff'].id}/desactiver")
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, world["staff"].id).is_active_account


SHOWN_RE = re.compile(r'name="etablissement" value="(\d+)"')


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


@pytest.fixture
def chain(world):
    """The company grows to 63 establishments: more than a habilitations page holds (50)."""
    for n in range(60):
        make_establishment(world["company"], departement="54", name=f"Magasin {n:02d}", city="Nancy")
    db.session.commit()
    return world


def test_many_establishments_get_a_search_and_pages_and_every_button_saves_first(client, login, chain):
    login(chain["admin"])
    staff = chain["staff"]
    page = client.get(f"/admin/utilisateurs/{staff.id}").get_data(as_text=True)
    first = SHOWN_RE.findall(page)
    assert len(first) == 50 and first[0] == str(chain["head"].id)  # the head office first
    assert "63 établissements — page 1 sur 2." in page and "Enregistrer et voir la page suivante" in page

    # A tick on page 1, then « page suivante »: the tick is saved before page 2 is shown.
    ticks = {f"est_{first[-1]}": ["lucie"], f"est_{chain['metz'].id}": ["dat"]}
    response = post(
        client,
        f"/admin/utilisateurs/{staff.id}/habilitations",
        {**ticks, "etablissement": first, "q": "", "page": "1", "aller": "2"},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("?page=2")
    assert (int(first[-1]), "lucie") in grants_of(staff)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    second = SHOWN_RE.findall(page)
    assert len(second) == 13 and not set(second) & set(first)
    assert "page 2 sur 2" in page and "Enregistrer et voir la page précédente" in page

    # Nothing ticked on page 2, then a search: page 1's habilitations are not touched.
    response = post(
        client,
        f"/admin/utilisateurs/{staff.id}/habilitations",
        {"etablissement": second, "q": "", "page": "2", "aller": "recherche", "recherche": "magasin 0"},
    )
    assert response.headers["Location"].endswith("?q=magasin+0")
    assert grants_of(staff) == {(int(first[-1]), "lucie"), (chain["metz"].id, "dat")}
    page = text(client.get(response.headers["Location"]))
    assert len(SHOWN_RE.findall(page)) == 10 and "10 établissements pour « magasin 0 »." in page
    assert "Enregistrer et voir tous les établissements" in page

    siret = chain["metz"].siret
    page = text(client.get(f"/admin/utilisateurs/{staff.id}", query_string={"q": f"{siret[:9]} {siret[9:]}"}))
    assert SHOWN_RE.findall(page) == [str(chain["metz"].id)]  # a SIRET typed with a space
    page = text(client.get(f"/admin/utilisateurs/{staff.id}", query_string={"q": "Lyon"}))
    assert "Aucun établissement ne correspond à « Lyon »." in page and not SHOWN_RE.findall(page)


def test_an_establishment_of_another_company_in_the_form_is_ignored(client, login, world):
    login(world["admin"])
    other = world["other_est"]
    response = post(
        client,
        f"/admin/utilisateurs/{world['staff'].id}/habilitations",
        {f"est_{other.id}": ["dat"], "etablissement": [str(other.id)]},
    )
    assert response.status_code == 303
    assert (other.id, "dat") not in grants_of(world["staff"])


def test_the_invitation_of_a_large_company_offers_the_head_office_only(client, login, chain):
    login(chain["admin"])
    page = text(client.get("/admin/utilisateurs/inviter"))
    assert "Votre entreprise a 63 établissements." in page
    assert re.findall(r'name="est_(\d+)"', page) == [str(chain["head"].id)] * len(Service)
