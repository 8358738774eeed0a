"""The victim's access-code page is rate-limited per IP (issue 13, item 6), on top of the per-case lock:
an address trying codes on many cases is stopped too."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Case
from tests.factories import make_company, make_establishment


@pytest.fixture
def app_config():
    return {"ACCESS_CODE_RATE_LIMIT": "3 per minute"}


def test_the_access_code_page_answers_429_beyond_its_rate_per_ip(app, client):
    establishment = make_establishment(make_company("Transports Lorrains"), departement="57")
    for n in range(4):
        db.session.add(Case(reference=f"AT-2026-00090{n}", kind="AT", establishment_id=establishment.id))
    db.session.commit()
    token = client.csrf("/acces-victime")
    statuses = [
        client.post(
            "/acces-victime",
            data={"csrf_token": token, "reference": f"AT-2026-00090{n}", "code": "AAAA-BBBB-CCCC"},
        ).status_code
        for n in range(4)
    ]
    assert statuses == [422, 422, 422, 429]
    assert client.get("/acces-victime").status_code == 200  # reading the page is not limited
