"""Demo data for `flask demo load` (README), one module per service: the accounts first (companies,
establishments, caisses, one account per role), then LUCIE's letters, then DAT's declarations, then the
form models, Compte AT/MP (reference data, wages, claims, notified rates), QR Pro's cases, then the
Subventions Prévention (programmes, three dossiers). Every loader goes through the real services and is
idempotent, so a second run changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from app.demo.accounts import DEMO_PASSWORD, load_accounts_demo
from app.demo.compte import load_compte_demo
from app.demo.dat import load_dat_demo
from app.demo.form_models import load_form_models_demo
from app.demo.lucie import load_lucie_demo
from app.demo.qrpro import load_qrpro_demo
from app.demo.qrpro_parties import load_qrpro_parties_demo
from app.demo.subsidies import load_subsidies_demo

__all__ = ["DEMO_PASSWORD", "load_demo"]


def load_demo() -> Iterator[str]:
    """Create what is missing of the demo data, yielding one progress line per object."""
    yield from load_accounts_demo()
    yield from load_lucie_demo()
    yield from load_dat_demo()
    yield from load_form_models_demo()
    yield from load_compte_demo()
    yield from load_qrpro_demo()
    yield from load_qrpro_parties_demo()  # on the caisse's demo cases
    yield from load_subsidies_demo()
    yield f"Données de démonstration prêtes. Mot de passe de tous les comptes : {DEMO_PASSWORD}"
