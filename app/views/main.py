"""Home page per role (tableau de bord), establishment page, static pages."""

from flask import Blueprint, g, render_template, request
from flask_login import login_required

from app.services import access
from app.services import dashboard as dashboards
from app.services.accounts import get_establishment
from app.views.lucie import navigation_unread_is
from app.web import page_number, request_user

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def dashboard():
    user = request_user()
    if user.kind == "victim":  # a victim's home is « Mes dossiers » (QR Pro, app/views/qrpro_victim.py)
        from app.views.qrpro_victim import cases_page

        return cases_page()
    board = dashboards.dashboard_for(user)
    if board.role in ("employer", "firm") and not g.get("htmx"):
        navigation_unread_is(board.navigation_unread)
    return render_template("main/dashboard.html", board=board)


@bp.get("/etablissements/")
@login_required
def establishments():
    """« Vos établissements »: all of them, with a search, for a user who has too many for the home
    page's cards."""
    search = request.args.get("q", "")[:100]
    listing = dashboards.establishments_page(request_user(), search, page_number(request.args.get("page")))
    return render_template("main/establishments.html", listing=listing, search=search)


@bp.get("/etablissements/<int:establishment_id>")
@login_required
def establishment(establishment_id: int):
    est = get_establishment(establishment_id)
    access.authorize(request_user(), None, est)
    return render_template(
        "main/establishment.html",
        establishment=est,
        services=access.services_on(request_user(), est),
        drafts=dashboards.drafts_in_progress(request_user(), establishment=est),
    )


@bp.get("/accessibilite")
def accessibility():
    return render_template("main/accessibility.html")
