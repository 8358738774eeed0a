"""LUCIE for employers and tiers déclarants (SPEC §4): the mailbox, the letter page with its PDF,
archive; and the company administrator's subscription screens."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import login_required
from wtforms.fields.choices import SelectChoice

from app.domain.lucie import LETTER_TYPE_CODES, LETTER_TYPE_LABELS
from app.forms.lucie import AlertAddressForm, ConfirmForm, MailboxFilterForm, parse_iso_date
from app.services import lucie
from app.services.lucie import AlertAddressError, LetterUnavailable, MailboxFilters, OpeningNotConfirmed
from app.views.documents import send_document
from app.web import is_htmx, request_user

bp = Blueprint("lucie", __name__, url_prefix="/courriers")

RESULTS_ID = "courriers-resultats"
# With errors, an htmx filter request gets the page's whole content (form with its messages, error
# summary, title), swapped into <main>; the form then targets <main> until it is valid again.
CONTENT_ID = "main-content"


@bp.app_context_processor
def lucie_navigation():
    """The unread count shown in the navigation, computed once per request by the service (widget
    templates render through render_template too: never once per field)."""
    if "lucie_unread" not in g:
        unread = None
        user = request_user()
        if user and user.is_authenticated and not g.get("htmx"):
            unread = lucie.navigation_unread(user)
        g.lucie_unread = unread
    return {"lucie_unread": g.lucie_unread, "LETTER_TYPE_LABELS": LETTER_TYPE_LABELS}


def navigation_unread_is(count: int | None) -> None:
    """The unread count of the navigation, when the view has just read it (the home page): not
    counted a second time by :func:`lucie_navigation`."""
    g.lucie_unread = count


def _unavailable():
    return render_template(
        "errors/error.html",
        code=500,
        title="Courrier altéré",
        text=(
            "Le document de ce courrier ne correspond plus à l'original déposé : il ne peut pas être "
            "affiché. L'incident est enregistré ; contactez votre caisse pour en obtenir une copie."
        ),
    ), 500


@bp.get("/")
@login_required
def mailbox():
    user = request_user()
    if user.is_agent:
        return redirect(url_for("lucie_agent.deposits"))
    establishments = lucie.mailbox_establishments(user)
    form = MailboxFilterForm(formdata=request.args)
    form.etablissement.choices = [SelectChoice("", "Tous les établissements")] + [
        SelectChoice(str(e.id), f"{e.name} — {e.city} ({e.siret})") for e in establishments
    ]
    valid = form.validate()
    establishment_id = form.etablissement.data
    filters = MailboxFilters(
        establishment_id=int(establishment_id) if establishment_id and establishment_id.isdigit() else None,
        letter_type=form.type.data if form.type.data in LETTER_TYPE_CODES else None,
        start=parse_iso_date(form.du.data) if valid else None,
        end=parse_iso_date(form.au.data) if valid else None,
        case_reference=form.dossier.data or None,
        state=form.etat.data if form.etat.data in ("lus", "non_lus") else None,
        query=(form.q.data or None) if valid else None,
        archived=form.archives.data == "1",
    )
    page = lucie.mailbox_page(
        request_user(),
        filters,
        after=request.args.get("apres"),
        before=request.args.get("avant"),
        establishments=establishments,
    )
    context = {
        "form": form,
        "page": page,
        "filters": filters,
        "establishments": establishments,
        "by_id": {e.id: e for e in establishments},
        "notices": lucie.deemed_notices(page.letters, {e.id: e.departement for e in establishments}),
        "rule": lucie.current_rule(),
        "has_errors": bool(form.errors),
        "results_id": RESULTS_ID,
        "content_id": CONTENT_ID,
        "query_args": {k: v for k, v in request.args.items() if k not in ("apres", "avant") and v},
    }
    status = 422 if form.errors else 200
    target = request.headers.get("HX-Target") if is_htmx() else None
    if target == RESULTS_ID and not form.errors:
        return render_template("lucie/_results.html", **context), status
    if target in (RESULTS_ID, CONTENT_ID):
        headers = {"HX-Retarget": f"#{CONTENT_ID}", "HX-Reswap": "innerHTML"}
        return render_template("lucie/mailbox.html", fragment=True, **context), status, headers
    return render_template("lucie/mailbox.html", **context), status


@bp.get("/<int:letter_id>")
@login_required
def letter(letter_id: int):
    try:
        letter = lucie.letter_page(request_user(), letter_id)
    except LetterUnavailable:
        return _unavailable()
    return render_template(
        "lucie/letter.html",
        letter=letter,
        dates=lucie.letter_dates(letter),
        form=ConfirmForm(),
        awaits_opening=lucie.awaits_opening(request_user(), letter),
        counts_as_consultation=lucie.makes_first_consultation(request_user(), letter),
    )


@bp.post("/<int:letter_id>/ouvrir")
@login_required
def open_letter(letter_id: int):
    """« Ouvrir le courrier »: the explicit first opening (a POST with its CSRF token, so no other
    site can make it), then the letter page with its document."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        lucie.open_letter(request_user(), letter_id, explicit=True)
    except LetterUnavailable:
        return _unavailable()
    return redirect(url_for("lucie.letter", letter_id=letter_id), 303)


def _from_our_pages() -> bool:
    """Whether the request was made from this site's own pages: the browser's Sec-Fetch-Site when it
    sends one, else the Origin, else the Referer (the app sends Referrer-Policy: same-origin). A link
    followed from another site, a bookmark or an address typed by hand are not."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    ours = urlsplit(request.host_url)
    source = request.headers.get("Origin") or request.referrer
    if not source or source == "null":
        return False
    theirs = urlsplit(source)
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc)


def _pdf_response(letter_id: int, disposition: str):
    try:
        letter, data = lucie.open_letter(request_user(), letter_id, explicit=_from_our_pages())
    except OpeningNotConfirmed:
        # The first consultation is legally binding: never recorded from a request another site could
        # have made. The letter page asks for « Ouvrir le courrier ».
        return redirect(url_for("lucie.letter", letter_id=letter_id), 303)
    except LetterUnavailable:
        return _unavailable()
    # Shown in an <iframe> of the letter page: only this site may frame it.
    inline = disposition == "inline"
    return send_document(data, letter.filename, inline=inline, framed_here=inline)


@bp.get("/<int:letter_id>/document")
@login_required
def document(letter_id: int):
    return _pdf_response(letter_id, "inline")


@bp.get("/<int:letter_id>/telecharger")
@login_required
def download(letter_id: int):
    return _pdf_response(letter_id, "attachment")


@bp.post("/<int:letter_id>/archiver")
@login_required
def archive(letter_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    lucie.set_archived(request_user(), letter_id, True)
    flash("Le courrier est archivé. Retrouvez-le dans « Courriers archivés ».", "success")
    return redirect(url_for("lucie.letter", letter_id=letter_id))


@bp.post("/<int:letter_id>/desarchiver")
@login_required
def unarchive(letter_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    lucie.set_archived(request_user(), letter_id, False)
    flash("Le courrier est de retour dans la boîte de réception.", "success")
    return redirect(url_for("lucie.letter", letter_id=letter_id))


# ------------------------------------------------------------------------------------------
# Subscription (company administrator)
# ------------------------------------------------------------------------------------------


@bp.get("/abonnement")
@login_required
def subscriptions():
    return render_template(
        "lucie/subscriptions.html",
        rows=lucie.subscriptions_for(request_user()),
        form=ConfirmForm(),
        rule=lucie.current_rule(),
    )


def _subscription_page(establishment, form, status: int = 200):
    return render_template(
        "lucie/subscription.html",
        establishment=establishment,
        subscribed=lucie.is_subscribed(establishment),
        addresses=lucie.alert_addresses(establishment),
        recipients=lucie.alert_recipients(establishment),
        form=form,
        confirm=ConfirmForm(),
        has_errors=bool(form.errors),
    ), status


@bp.get("/abonnement/<siret>")
@login_required
def subscription(siret: str):
    establishment = lucie.establishment_for_admin(request_user(), siret)
    return _subscription_page(establishment, AlertAddressForm())


@bp.post("/abonnement/<siret>")
@login_required
def change_subscription(siret: str):
    establishment = lucie.establishment_for_admin(request_user(), siret)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    active = request.form.get("actif") == "1"
    lucie.set_subscription(request_user(), establishment, active)
    flash(
        f"LUCIE est activé pour {establishment.name}."
        if active
        else f"LUCIE est arrêté pour {establishment.name} : les courriers déjà reçus restent consultables.",
        "success",
    )
    if request.form.get("retour") == "liste":
        return redirect(url_for("lucie.subscriptions"))
    return redirect(url_for("lucie.subscription", siret=siret))


@bp.post("/abonnement/<siret>/adresses")
@login_required
def add_address(siret: str):
    establishment = lucie.establishment_for_admin(request_user(), siret)
    form = AlertAddressForm()
    if form.validate_on_submit():
        try:
            lucie.add_alert_address(request_user(), establishment, form.email.data)
        except AlertAddressError as error:
            form.email.errors = [error.message]
        else:
            flash(f"{form.email.data} recevra les alertes LUCIE de {establishment.name}.", "success")
            return redirect(url_for("lucie.subscription", siret=siret))
    return _subscription_page(establishment, form, 422)


@bp.post("/abonnement/<siret>/adresses/<int:address_id>/supprimer")
@login_required
def remove_address(siret: str, address_id: int):
    establishment = lucie.establishment_for_admin(request_user(), siret)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    lucie.remove_alert_address(request_user(), establishment, address_id)
    flash("L'adresse ne recevra plus les alertes.", "success")
    return redirect(url_for("lucie.subscription", siret=siret))
