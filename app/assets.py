"""Names and integrity hashes of the vendored front-end files (written by scripts/build-frontend.sh)."""

from __future__ import annotations

from pathlib import Path

VENDOR = Path(__file__).parent / "static" / "vendor"


def vendored_assets() -> dict[str, str]:
    """Config entries GOVUK_CSS, GOVUK_JS, HTMX_FILE and HTMX_SRI, read from app/static/vendor."""
    sri = {}
    sri_file = VENDOR / "SRI.txt"
    if sri_file.exists():
        for line in sri_file.read_text().splitlines():
            if line.strip():
                name, digest = line.split()
                sri[name] = digest

    def one(pattern: str) -> str:
        found = sorted(p.name for p in VENDOR.glob(pattern))
        if not found:
            raise RuntimeError(f"missing vendored file {pattern}: run scripts/build-frontend.sh")
        return found[-1]

    htmx = one("htmx-*.min.js")
    return {
        "GOVUK_CSS": one("govuk-frontend-*-atmp.min.css"),
        "GOVUK_JS": one("govuk-frontend-*.min.js"),
        "HTMX_FILE": htmx,
        "HTMX_SRI": sri.get(htmx, ""),
    }
