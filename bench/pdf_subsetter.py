"""CPU time of one tagged PDF render: HarfBuzz's font subsetter against fontTools' (WeasyPrint's fallback).

    .venv/bin/python -m bench.pdf_subsetter harfbuzz
    .venv/bin/python -m bench.pdf_subsetter fonttools

A one-page document in the PDFs' four faces (regular, bold, italic, mono); median and minimum CPU time of 10
renders after 2 warm-up renders. Figures in docs/performance.md."""

from __future__ import annotations

import statistics
import sys
import time

import weasyprint.pdf.fonts as fonts
from weasyprint import HTML

PARAGRAPH = (
    "<p>Déclaration d'accident du travail n° DAT-2026-000123, reçue le 6 décembre 2026 à 11 h 42. "
    "<b>gras</b> <i>italique</i></p><p class=m>sha256 0123abcdef</p>"
)
HTML_TEXT = (
    "<html lang=fr><title>Banc</title><style>html{font-family:'Liberation Sans'}"
    ".m{font-family:'DejaVu Sans Mono'}</style><h1>Accusé de réception</h1>" + PARAGRAPH * 20
)


def main(subsetter: str) -> None:
    if subsetter == "fonttools":
        fonts.harfbuzz_subset = None  # what WeasyPrint does when libharfbuzz-subset0 is missing
    elif fonts.harfbuzz_subset is None:
        sys.exit("libharfbuzz-subset0 is not installed: `make harfbuzz`")
    times = []
    for _ in range(12):
        start = time.process_time()
        HTML(string=HTML_TEXT).write_pdf(pdf_tags=True)
        times.append(time.process_time() - start)
    kept = times[2:]
    median, least = statistics.median(kept) * 1000, min(kept) * 1000
    print(f"{subsetter}: median {median:.0f} ms, min {least:.0f} ms of CPU")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "harfbuzz")
