"""`flask subventions load`: the programmes' YAML into the database — idempotent, all-or-nothing, a changed
published programme refused; a Carsat agent closes a budget."""

from __future__ import annotations

import shutil

from sqlalchemy import func, select

from app.domain.subsidies import PROGRAMMES_DIR
from app.extensions import db
from app.models import SubsidyProgramme
from app.services.subsidies import programmes


def _count() -> int:
    return db.session.scalar(select(func.count(SubsidyProgramme.id)))


def _copy(tmp_path):
    directory = tmp_path / "programmes"
    directory.mkdir()
    for path in PROGRAMMES_DIR.glob("*.yaml"):
        shutil.copy(path, directory / path.name)
    return directory


def test_load_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["subventions", "load"])
    assert first.exit_code == 0, first.output
    assert "4 programme(s) chargé(s)" in first.output
    second = runner.invoke(args=["subventions", "load"])
    assert second.exit_code == 0
    assert "0 programme(s) chargé(s), 4 inchangé(s)" in second.output
    assert _count() == 4
    codes = {row.code for row in programmes.all_programmes()}
    assert codes == {"TOPBTP", "RISQUE_CHIMIQUE", "RPS", "ERGO"}
    # The frozen copy gives the domain's programme back: 70 % for chemical-risk equipment in 2026.
    row = db.session.scalar(select(SubsidyProgramme).where(SubsidyProgramme.code == "RISQUE_CHIMIQUE"))
    from datetime import date

    assert str(programmes.rules_of(row).line_kinds["equipement"].rate_on(date(2026, 1, 1))) == "0.7"


def test_a_changed_published_programme_is_refused_and_nothing_is_loaded(app, tmp_path):
    directory = _copy(tmp_path)
    (directory / "ERGO.yaml").unlink()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["subventions", "load", "--dir", str(directory)]).exit_code == 0
    assert _count() == 3
    shutil.copy(PROGRAMMES_DIR / "ERGO.yaml", directory / "ERGO.yaml")
    rps = directory / "RPS.yaml"
    rps.write_text(rps.read_text(encoding="utf-8").replace("15000", "16000"), encoding="utf-8")
    result = runner.invoke(args=["subventions", "load", "--dir", str(directory)])
    assert result.exit_code != 0
    assert "RPS" in result.output and "ne se modifie pas" in result.output
    assert _count() == 3  # ERGO, new and valid, was not loaded either: all or nothing


def test_an_invalid_file_loads_nothing(app, tmp_path):
    directory = _copy(tmp_path)
    (directory / "TOPBTP.yaml").write_text("code: TOPBTP\nname: 3\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["subventions", "load", "--dir", str(directory)])
    assert result.exit_code != 0 and "TOPBTP.yaml" in result.output
    assert _count() == 0
