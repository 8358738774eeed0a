"""Flask commands, one module per service or area, each with its group:

- `flask demo load` (demo.py), `flask dev mail-sink` (dev.py);
- `flask outbox work [--once]`, `flask outbox requeue` (outbox.py);
- `flask dat remind [--every N]` (dat.py), `flask drafts expire [--every N]` (drafts.py);
- `flask api-token create|revoke|list` (api_tokens.py), `flask operator grant|revoke` (accounts.py);
- `flask lucie demo` (lucie.py);
- `flask forms load|list` (forms.py).
- `flask subventions load|list` (subsidies.py).
- `flask compte load-reference|import-salaires|import-sinistres|import-etablissements|notify` (compte.py).
- `flask qrpro ouvrir-dossiers`, `flask qrpro cloturer-consultations [--every N]` (qrpro.py).
"""

from __future__ import annotations

from flask import Flask

from app.cli import (
    accounts,
    api_tokens,
    compte,
    dat,
    demo,
    dev,
    drafts,
    forms,
    lucie,
    outbox,
    qrpro,
    subsidies,
)


def register_cli(app: Flask) -> None:
    for group in (
        demo.demo,
        outbox.outbox,
        dev.dev,
        dat.dat,
        drafts.drafts,
        api_tokens.tokens,
        accounts.operator,
        lucie.lucie,
        forms.forms,
        compte.compte,
        qrpro.qrpro,
        subsidies.subventions,
    ):
        app.cli.add_command(group)
