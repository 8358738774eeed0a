"""Company administrator's screens (SPEC §1): users, invitations, habilitations, mandates."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.forms.accounts import (
    ConfirmForm,
    HabilitationsForm,
    InviteForm,
    JournalFiltersForm,
    MandateForm,
    with_establishments,
)
from app.services import accounts, journal, mandates
from app.services.access import authorize_company_admin
from app.services.accounts import AccountError
from app.web import is_htmx, navigate, page_number

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def only_company_administrators():
    authorize_company_admin(current_user, current_user.company_id)


def _target_user(user_id: int):
    """A user of the administrator's company; 404 for anyone else's (or no one)."""
    user = accounts.get_user(user_id)
    authorize_company_admin(current_user, user.company_id if user else None)
    if user.kind != "employer":
        abort(404)
    return user


def _form_page(template: str, form, **context):
    has_errors = bool(form.errors)
    return render_template(template, form=form, has_errors=has_errors, **context), (
        422 if has_errors else 200
    )


@bp.get("/")
def index():
    return redirect(url_for("admin.users"))


@bp.get("/utilisateurs")
def users():
    return render_template(
        "admin/users.html",
        company=accounts.get_company(current_user.company_id),
        rows=accounts.company_users(current_user.company_id),
    )


@bp.route("/utilisateurs/inviter", methods=["GET", "POST"])
def invite():
    establishments = accounts.invite_establishments(current_user.company_id)
    form = with_establishments(InviteForm, establishments.shown)()
    if form.validate_on_submit():
        try:
            user = accounts.invite_user(
                current_user,
                form.full_name.data,
                form.email.data,
                form.is_admin.data == "oui",
                form.wanted(),
            )
        except AccountError as error:
            getattr(form, error.field or "email").errors.append(error.message)
        else:
            flash(f"Invitation envoyée à {user.email}.", "success")
            return redirect(url_for("admin.user", user_id=user.id))
    return _form_page("admin/invite.html", form, establishments=establishments)


def _wants_fragment() -> bool:
    """htmx swapping the habilitations block (not a boosted full-page navigation)."""
    return is_htmx() and request.headers.get("HX-Target") == "habilitations"


def _user_page(user, form, listing, search: str, status: int = 200, *, notice: str | None = None, problem=""):
    return render_template(
        "admin/_habilitations.html" if _wants_fragment() else "admin/user.html",
        user=user,
        form=form,
        listing=listing,
        search=search,
        has_errors=bool(form.errors or problem),
        problem=problem,
        notice=notice,
        head_office_services=accounts.head_office_services(user),
        confirm=ConfirmForm(),
    ), status


def _habilitations_form(user, establishments, formdata=None):
    """One checkbox group per establishment shown, ticked as ``user``'s habilitations are (GET) or
    as sent (POST)."""
    form_class = with_establishments(HabilitationsForm, establishments)
    if formdata is not None:
        return form_class(formdata=formdata)
    grants = accounts.direct_grants(user)
    return form_class(
        formdata=None, data={f"est_{e.id}": sorted(grants.get(e.id, ())) for e in establishments}
    )


def _show_user(target, status: int = 200, *, problem: str = ""):
    """The user's page at the establishments the URL asks for (a search, a page)."""
    search = request.args.get("q", "")
    listing = accounts.find_establishments(
        current_user.company_id, search, page_number(request.args.get("page"))
    )
    return _user_page(
        target, _habilitations_form(target, listing.items), listing, search, status, problem=problem
    )


@bp.get("/utilisateurs/<int:user_id>")
def user(user_id: int):
    return _show_user(_target_user(user_id))


@bp.post("/utilisateurs/<int:user_id>/habilitations")
def habilitations(user_id: int):
    """Save the ticks of the establishments the page showed (the others are left as they are), then
    stay, or show the search or the page asked for: every button saves first, so that nothing ticked
    is lost by moving on."""
    target = _target_user(user_id)
    search, page = request.form.get("q", ""), page_number(request.form.get("page"))
    listing = accounts.find_establishments(current_user.company_id, search, page)
    shown = accounts.shown_establishments(current_user.company_id, request.form.getlist("etablissement"))
    form = _habilitations_form(target, shown, request.form)
    if not form.validate():
        return _user_page(target, form, listing, search, 422)
    granted, revoked = accounts.set_habilitations(current_user, target, form.wanted())
    message = (
        f"Habilitations enregistrées : {granted} ajoutée(s), {revoked} retirée(s)."
        if granted or revoked
        else "Aucune habilitation n'a changé."
    )
    going = request.form.get("aller", "")
    if going == "recherche":
        search, page = request.form.get("recherche", ""), 1
    elif going == "tout":
        search, page = "", 1
    elif going.isdigit():
        page = page_number(going)
    if going or not _wants_fragment():
        if granted or revoked or not going:
            flash(message, "success")
        return navigate(
            url_for("admin.user", user_id=target.id, q=search or None, page=page if page > 1 else None)
        )
    return _user_page(target, _habilitations_form(target, listing.items), listing, search, notice=message)


def _post_action(user_id: int, action, success: str):
    """A button on the user page: do it, or show the page again with the French reason."""
    target = _target_user(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        action(target)
    except AccountError as error:
        return _show_user(target, 422, problem=error.message)
    flash(success.format(name=target.full_name), "success")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.post("/utilisateurs/<int:user_id>/administrateur")
def set_admin(user_id: int):
    make_admin = request.form.get("admin") == "oui"
    return _post_action(
        user_id,
        lambda u: accounts.set_company_admin(current_user, u, make_admin),
        "{name} administre désormais les comptes." if make_admin else "{name} n'administre plus les comptes.",
    )


@bp.post("/utilisateurs/<int:user_id>/desactiver")
def deactivate(user_id: int):
    return _post_action(
        user_id,
        lambda u: accounts.set_active(current_user, u, False),
        "Le compte de {name} est désactivé.",
    )


@bp.post("/utilisateurs/<int:user_id>/sessions/fermer")
def revoke_sessions(user_id: int):
    """A lost laptop, a shared computer: the person is signed out everywhere, and keeps the account."""
    return _post_action(
        user_id,
        lambda u: accounts.revoke_sessions(current_user, u),
        "Les sessions de {name} sont fermées sur tous ses appareils.",
    )


@bp.post("/utilisateurs/<int:user_id>/reactiver")
def reactivate(user_id: int):
    return _post_action(
        user_id,
        lambda u: accounts.set_active(current_user, u, True),
        "Le compte de {name} est réactivé.",
    )


@bp.post("/utilisateurs/<int:user_id>/invitation")
def resend_invitation(user_id: int):
    return _post_action(
        user_id,
        lambda u: accounts.resend_invitation(current_user, u),
        "Une nouvelle invitation a été envoyée à {name}.",
    )


@bp.get("/mandats")
def mandates_list():
    return render_template(
        "admin/mandates.html",
        mandates=mandates.company_mandates(current_user.company_id),
        confirm=ConfirmForm(),
    )


@bp.route("/mandats/nouveau", methods=["GET", "POST"])
def new_mandate():
    form = MandateForm()
    form.set_establishments(accounts.company_establishments(current_user.company_id))
    if form.validate_on_submit():
        try:
            created = mandates.grant_mandate(
                current_user, form.establishment.data, form.firm_siret.data, form.services.data
            )
        except AccountError as error:
            getattr(form, error.field or "firm_siret").errors.append(error.message)
        else:
            flash(
                f"Mandat donné à {created[0].firm.name} sur {created[0].establishment.label}.",
                "success",
            )
            return redirect(url_for("admin.mandates_list"))
    return _form_page("admin/new_mandate.html", form)


@bp.post("/mandats/<int:mandate_id>/revoquer")
def revoke_mandate(mandate_id: int):
    mandate = mandates.get_mandate(mandate_id)
    authorize_company_admin(current_user, mandate.establishment.company_id if mandate else None)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    mandates.revoke_mandate(current_user, mandate)
    flash(f"Le mandat de {mandate.firm.name} est révoqué.", "success")
    return redirect(url_for("admin.mandates_list"))


def _journal_request():
    company_id = current_user.company_id
    form = JournalFiltersForm(request.args, people=journal.people(company_id))
    form.validate()
    before = request.args.get("avant", "")
    filters = journal.JournalFilters(
        person_id=form.person_id(),
        since=form.day("du"),
        until=form.day("au"),
        before_id=int(before) if before.isdigit() and len(before) < 19 else None,
    )
    return company_id, form, filters


@bp.get("/journal")
def activity_journal():
    company_id, form, filters = _journal_request()
    page = journal.company_journal(company_id, filters)
    journal.record_read()
    filter_args = {k: v for k, v in request.args.items() if k not in ("avant", "page") and v}
    first_page = filters.before_id is None
    return render_template(
        "admin/journal.html",
        company=accounts.get_company(company_id),
        form=form,
        page=page,
        has_errors=bool(form.errors),
        filter_args=filter_args,
        first_page=first_page,
        # Pages follow a cursor (``avant``): their number travels with it, for the page's title.
        page_number=1 if first_page else max(page_number(request.args.get("page")), 2),
    )


@bp.get("/journal.csv")
def activity_journal_csv():
    company_id, _, filters = _journal_request()
    page = journal.company_journal(company_id, filters, size=journal.EXPORT_LIMIT)
    journal.record_read(exported=len(page.entries))
    response = make_response(journal.as_csv(page))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="journal-activite.csv"'
    return response
