"""The one authorization function (SPEC §1): who sees which establishment and which service.

An establishment the user has no link to answers 404; a visible one without the service, 403."""

from datetime import UTC, datetime

import pytest
from werkzeug.exceptions import Forbidden, NotFound

from app.extensions import db
from app.models import Service, UserKind
from app.services import access
from tests.factories import make_caisse, make_company, make_establishment, make_firm, make_user


@pytest.fixture
def company(app):
    company = make_company("Bâtiments de l'Est")
    head = make_establishment(company, departement="75", head_office=True, name="Siège")
    metz = make_establishment(company, departement="57", name="Metz")
    strasbourg = make_establishment(company, departement="67", name="Strasbourg")
    return company, head, metz, strasbourg


@pytest.fixture
def other_company(app):
    other = make_company("Autre SA")
    return make_establishment(other, departement="57", head_office=True, name="Autre siège")


def fresh():
    """Each check as in a new request: the per-request cache of grants is dropped."""
    access.reset_cache()


def test_employer_sees_only_the_services_granted_on_an_establishment(company, other_company):
    _, head, metz, strasbourg = company
    user = make_user(company=company[0], grants=[(metz, Service.DAT)])
    assert access.can(user, Service.DAT, metz)
    assert not access.can(user, Service.LUCIE, metz)
    assert not access.can_see(user, strasbourg)
    assert not access.can_see(user, head)
    assert not access.can_see(user, other_company)
    assert access.establishments_for(user) == [metz]
    assert access.establishments_for(user, Service.LUCIE) == []
    assert access.services_on(user, metz) == [Service.DAT]


def test_authorize_answers_404_for_an_unlinked_establishment_and_403_for_a_missing_service(
    company, other_company
):
    _, _head, metz, strasbourg = company
    user = make_user(company=company[0], grants=[(metz, Service.DAT)])
    access.authorize(user, Service.DAT, metz)  # no exception
    access.authorize(user, None, metz)
    with pytest.raises(Forbidden):
        access.authorize(user, Service.LUCIE, metz)
    with pytest.raises(NotFound):
        access.authorize(user, Service.DAT, strasbourg)
    with pytest.raises(NotFound):
        access.authorize(user, None, other_company)
    with pytest.raises(NotFound):
        access.authorize(user, Service.DAT, None)


def test_a_head_office_habilitation_covers_every_establishment_of_the_company(company, other_company):
    _, head, metz, strasbourg = company
    user = make_user(company=company[0], grants=[(head, Service.LUCIE)])
    for est in (head, metz, strasbourg):
        assert access.can(user, Service.LUCIE, est)
        assert not access.can(user, Service.DAT, est)
    assert not access.can_see(user, other_company)
    assert access.establishments_for(user, Service.LUCIE) == sorted(
        [head, metz, strasbourg], key=lambda e: e.siret
    )


def test_a_habilitation_on_an_ordinary_establishment_does_not_spread(company):
    _, head, metz, strasbourg = company
    user = make_user(company=company[0], grants=[(metz, "*")])
    assert access.services_on(user, metz) == list(Service)
    assert not access.can_see(user, strasbourg)
    assert not access.can_see(user, head)


def test_company_administrator_sees_every_establishment_but_uses_only_granted_services(
    company, other_company
):
    _, head, metz, strasbourg = company
    admin = make_user(company=company[0], admin=True)
    for est in (head, metz, strasbourg):
        access.authorize(admin, None, est)
        with pytest.raises(Forbidden):
            access.authorize(admin, Service.DAT, est)
    with pytest.raises(NotFound):
        access.authorize(admin, None, other_company)


def test_authorize_company_admin(company, other_company):
    admin = make_user(company=company[0], admin=True)
    staff = make_user(company=company[0])
    access.authorize_company_admin(admin, company[0].id)
    with pytest.raises(Forbidden):
        access.authorize_company_admin(staff, company[0].id)
    with pytest.raises(NotFound):
        access.authorize_company_admin(admin, other_company.company_id)
    with pytest.raises(NotFound):
        access.authorize_company_admin(admin, None)
    firm_user = make_user(kind=UserKind.FIRM, firm_id=make_firm().id)
    with pytest.raises(NotFound):
        access.authorize_company_admin(firm_user, company[0].id)


def test_firm_acts_only_through_live_mandates(company, other_company):
    _, _head, metz, strasbourg = company
    firm = make_firm(mandates=[(strasbourg, Service.DAT), (strasbourg, Service.LUCIE)])
    user = make_user(kind=UserKind.FIRM, firm_id=firm.id)
    assert access.services_on(user, strasbourg) == [Service.DAT, Service.LUCIE]
    with pytest.raises(Forbidden):
        access.authorize(user, Service.COMPTE, strasbourg)
    with pytest.raises(NotFound):
        access.authorize(user, None, metz)


def test_a_mandate_on_the_head_office_does_not_spread_to_other_establishments(company):
    _, head, metz, _ = company
    firm = make_firm(mandates=[(head, Service.DAT)])
    user = make_user(kind=UserKind.FIRM, firm_id=firm.id)
    assert access.can(user, Service.DAT, head)
    assert not access.can_see(user, metz)


def test_a_revoked_mandate_gives_nothing(company):
    _, _, _, strasbourg = company
    firm = make_firm(mandates=[(strasbourg, Service.DAT)])
    user = make_user(kind=UserKind.FIRM, firm_id=firm.id)
    assert access.can(user, Service.DAT, strasbourg)
    from app.models import Mandate

    for mandate in db.session.scalars(db.select(Mandate)):
        mandate.revoked_at = datetime.now(UTC)
    db.session.flush()
    fresh()
    assert not access.can_see(user, strasbourg)
    assert access.establishments_for(user) == []
    with pytest.raises(NotFound):
        access.authorize(user, Service.DAT, strasbourg)


def test_another_firm_mandate_gives_nothing_to_this_firm(company):
    _, _, _, strasbourg = company
    make_firm("Cabinet A", mandates=[(strasbourg, "*")])
    user = make_user(kind=UserKind.FIRM, firm_id=make_firm("Cabinet B").id)
    assert not access.can_see(user, strasbourg)


def test_cpam_agent_sees_the_establishments_of_its_departements_for_cpam_services(company, other_company):
    _, head, metz, strasbourg = company
    caisse = make_caisse("CPAM de Moselle", "cpam", "57")
    agent = make_user(kind=UserKind.CPAM, caisse_id=caisse.id)
    assert access.can(agent, Service.DAT, metz)
    assert access.can(agent, Service.QRPRO, metz)
    assert access.can(agent, Service.LUCIE, other_company)
    with pytest.raises(Forbidden):
        access.authorize(agent, Service.COMPTE, metz)
    with pytest.raises(NotFound):
        access.authorize(agent, Service.DAT, strasbourg)
    with pytest.raises(NotFound):
        access.authorize(agent, None, head)
    assert access.establishments_for(agent) == sorted([metz, other_company], key=lambda e: e.siret)
    assert access.establishments_for(agent, Service.SUBVENTIONS) == []


def test_carsat_agent_covers_several_departements_for_carsat_services(company):
    _, head, metz, strasbourg = company
    caisse = make_caisse("Carsat Alsace-Moselle", "carsat", "57 67 68")
    agent = make_user(kind=UserKind.CARSAT, caisse_id=caisse.id)
    for est in (metz, strasbourg):
        assert access.can(agent, Service.COMPTE, est)
        assert access.can(agent, Service.SUBVENTIONS, est)
        assert not access.can(agent, Service.DAT, est)
    assert not access.can_see(agent, head)
    assert access.establishments_for(agent, Service.COMPTE) == sorted(
        [metz, strasbourg], key=lambda e: e.siret
    )


def test_agent_without_caisse_sees_nothing(company):
    _, _, metz, _ = company
    agent = make_user(kind=UserKind.CPAM)
    assert not access.can_see(agent, metz)
    assert access.establishments_for(agent) == []


def test_a_habilitation_row_on_another_company_opens_nothing(company, other_company):
    # Defence in depth: the administrator screens never create one, and if such a row existed
    # (bad import, manual SQL) it still would not open the other company's establishment.
    user = make_user(company=company[0], grants=[(other_company, Service.DAT)])
    assert not access.can_see(user, other_company)
    assert access.establishments_for(user) == []


def test_authorize_firm(company):
    firm_user = make_user(kind=UserKind.FIRM, firm_id=make_firm().id)
    access.authorize_firm(firm_user)
    for user in (
        make_user(company=company[0], admin=True),
        make_user(kind=UserKind.CPAM, caisse_id=make_caisse().id),
        make_user(kind=UserKind.FIRM),
    ):
        with pytest.raises(NotFound):
            access.authorize_firm(user)


def test_habilitation_changes_are_seen_after_reset_cache(company):
    _, _, metz, _ = company
    user = make_user(company=company[0])
    assert not access.can_see(user, metz)
    from app.models import Habilitation

    db.session.add(Habilitation(user_id=user.id, establishment_id=metz.id, service="dat"))
    db.session.flush()
    assert not access.can_see(user, metz)  # cached for the request
    access.reset_cache()
    assert access.can(user, Service.DAT, metz)


def _employer_users(company):
    """A company's users of every kind: a head-office habilitation, ordinary ones, administrators
    with and without a habilitation, none."""
    company_, head, metz, strasbourg = company
    return [
        make_user(company=company_, grants=[(head, Service.DAT)]),
        make_user(company=company_, grants=[(metz, "*"), (strasbourg, Service.LUCIE)]),
        make_user(company=company_, admin=True, grants=[(strasbourg, Service.DAT)]),
        make_user(company=company_, admin=True),
        make_user(company=company_),
    ]


def test_one_establishment_is_judged_as_the_whole_company_s_grants_judge_it(company, other_company):
    """can() reads only the establishment asked about and the head offices; establishments_for()
    reads the whole company. Both must say the same for every user, establishment and service."""
    _, head, metz, strasbourg = company
    firm = make_firm("Cabinet", mandates=[(metz, Service.DAT), (other_company, Service.LUCIE)])
    users = [*_employer_users(company), make_user(kind=UserKind.FIRM, firm_id=firm.id)]
    db.session.flush()
    for user in users:
        for establishment in (head, metz, strasbourg, other_company):
            for service in (None, *Service):
                fresh()
                listed = establishment in access.establishments_for(user, service)
                fresh()
                judged = (
                    access.can_see(user, establishment)
                    if service is None
                    else access.can(user, service, establishment)
                )
                assert judged == listed, (user.id, establishment.name, service)


def test_the_grants_read_with_an_object_are_those_its_own_query_reads(app, company, other_company):
    """A save reads the user's grants on the draft's establishment in the draft's own query
    (access.with_grants): for every kind of user and establishment, the same grants as the query on
    that establishment alone — a revoked mandate and another firm's included."""
    from flask import g
    from sqlalchemy import bindparam, select

    from app.models import Establishment, Mandate

    _, head, metz, strasbourg = company
    firm = make_firm("Cabinet", mandates=[(metz, Service.DAT), (head, Service.LUCIE)])
    other_firm = make_firm("Autre cabinet", mandates=[(strasbourg, Service.DAT)])
    revoked = make_firm("Cabinet révoqué", mandates=[(strasbourg, Service.LUCIE)])
    for mandate in db.session.scalars(db.select(Mandate).where(Mandate.firm_id == revoked.id)):
        mandate.revoked_at = datetime.now(UTC)
    users = [
        *_employer_users(company),
        *(make_user(kind=UserKind.FIRM, firm_id=f.id) for f in (firm, other_firm, revoked)),
    ]
    db.session.flush()
    query = access.with_grants(
        select(Establishment).where(Establishment.id == bindparam("asked")), Establishment.id
    )
    for user in users:
        for establishment in (head, metz, strasbourg, other_company):
            with app.test_request_context(method="POST"):
                fresh()
                found = access.read_with_grants(user, query, {"asked": establishment.id})
                assert found is establishment
                read_with = g._grants_on[(user.id, establishment.id)]
                assert read_with == access._read_grants(user, establishment.id), (user.id, establishment.name)
    # Seen on a full page, the navigation reads every grant anyway: the plain query, nothing kept.
    with app.test_request_context(method="GET"):
        g.pop("_grants_on", None)  # g is the test's application context's, shared by these requests
        assert access.read_with_grants(users[0], query, {"asked": metz.id}) is metz
        assert "_grants_on" not in g
