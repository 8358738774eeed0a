"""Tiers-déclarant screens (SPEC §1): the portfolio of client establishments under mandate."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from app.services.access import authorize_firm
from app.services.mandates import portfolio_for

bp = Blueprint("firm", __name__, url_prefix="/cabinet")


@bp.get("/portefeuille")
@login_required
def portfolio():
    authorize_firm(current_user)
    return render_template("firm/portfolio.html", firm=current_user.firm, clients=portfolio_for(current_user))
