"""The audit behind the accessibility statement (/accessibilite, issue 10 §5), over the demo data: every
role's main pages with every axe-core rule (WCAG 2.0, 2.1 and 2.2 A and AA, and axe's best practices) at
every impact, not only the serious and critical ones the other tests check; and what axe does not see:
the focus outline of a scrollable table region, the live region of a list's count kept across htmx
swaps, back links inside a landmark."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from app.demo import DEMO_PASSWORD
from app.demo.compte import METZ
from tests.e2e.conftest import AXE, assert_accessible, login_as

# The pages named in the statement: keep both lists in step.
PAGES = {
    None: [
        "/connexion",
        "/mot-de-passe/oublie",
        "/accessibilite",
        "/compte-atmp/baremes",
        "/compte-atmp/verifier-attestation",
        "/compte-atmp/verifier-attestation?code=ZZZZ-ZZZZ-ZZZZ",
        "/acces-victime",
    ],
    "employeur@demo.test": [
        "/",
        "/demarches/",
        "/dat/",
        "/courriers/",
        "/courriers/?archives=1",
        "/compte",
        "/compte/mot-de-passe",
        "/demarches/dat/commencer",
        "/compte-atmp/",
        "/subventions/",
        "/qrpro/dossiers/",
        "/qrpro/questionnaires",
    ],
    "admin@demo.test": [
        "/",
        "/admin/utilisateurs",
        "/admin/utilisateurs/inviter",
        "/admin/mandats",
        "/admin/journal",
        "/etablissements/",
        "/courriers/abonnement",
    ],
    "cabinet@demo.test": ["/", "/cabinet/portefeuille", "/courriers/"],
    "agent.cpam@demo.test": [
        "/",
        "/cpam/declarations",
        "/agent/courriers/",
        "/agent/courriers/deposer",
        "/cpam/qrpro/",
        "/cpam/qrpro/maladies/nouvelle",
    ],
    "operateur@demo.test": ["/", "/operateur/courriels/"],
    # The Carsat agent: the imports screen, and an establishment's account with « Calculer et notifier ».
    "agent.carsat@demo.test": [
        "/",
        "/compte-atmp/imports",
        f"/compte-atmp/?siret={METZ}",
        "/subventions/instruction/",
    ],
    # The QR Pro victim of the demo (app/demo/qrpro_parties.py): « Mes dossiers ».
    "victime@demo.test": ["/mes-dossiers/"],
}
# Pages with another status than 200: a code no attestation bears (the error state of the check).
STATUS = {"/compte-atmp/verifier-attestation?code=ZZZZ-ZZZZ-ZZZZ": 404}
# A page reached by following the first link of a list's table, for each role that has one.
FOLLOW = {
    "employeur@demo.test": ["/courriers/", "/dat/"],
    "agent.cpam@demo.test": ["/cpam/declarations", "/agent/courriers/"],
}
# Pages reached by links whose address holds an id (the Compte AT/MP's): (page, pattern of the link's href),
# each page being the previous one followed when it is "→" (the employer's establishment, then its rate's
# calculation and « Comprendre la tarification »; the bilan is on the account page).
CHAINS = {
    "employeur@demo.test": [
        ("/compte-atmp/", r"^/compte-atmp/\d+$"),
        ("→", r"^/compte-atmp/\d+/taux/\d+$"),
        ("←", r"^/compte-atmp/\d+/comprendre$"),
        # The subsidy dossier asked for completion (the home page's reminder), its lines, « Vérifier ».
        ("/", r"^/subventions/\d+$"),
        ("→", r"^/subventions/\d+/lignes$"),
        ("→", r"^/subventions/\d+/verifier$"),
        # QR Pro: the MP case in its consultation window (pieces, observations, the form).
        ("/qrpro/dossiers/", r"^/qrpro/dossiers/dossier/MP-[^/]+$"),
    ],
    "agent.cpam@demo.test": [("/cpam/qrpro/", r"^/cpam/qrpro/dossiers/[^/]+$")],
    # The victim's case page (the MP in consultation: letters, dossier, observations form, timeline).
    "victime@demo.test": [("/mes-dossiers/", r"^/mes-dossiers/\d+$")],
    "agent.carsat@demo.test": [("/subventions/instruction/", r"^/subventions/instruction/\d+$")],
}


def follow_chain(page, base_url: str, chain: list[tuple[str, str]]) -> list[str]:
    """The addresses of the chain's pages: from each page, the first link of ``main`` matching the pattern
    ("→": from the page just reached, "←": from the one before it)."""
    reached: list[str] = []
    for start, pattern in chain:
        source = reached[-1] if start == "→" else reached[-2] if start == "←" else start
        page.goto(base_url + source)
        href = page.evaluate(
            "re => [...document.querySelectorAll('main a')].map(a => a.getAttribute('href'))"
            ".find(h => h && new RegExp(re).test(h))",
            pattern,
        )
        assert href, f"no link matching {pattern} on {source}"
        reached.append(href)
    return reached


def carsat_results(page, base_url: str) -> dict[str, list[dict]]:
    """The Carsat agent's answers to its forms, each audited: an import refused line by line, a year that
    is not one, a rate already notified (the result page of « Calculer et notifier »)."""
    found = {}
    page.goto(base_url + "/compte-atmp/imports")
    page.locator("main input[name=kind]").first.check()
    bad = f"siret;annee;masse_salariale;effectif\n{METZ};2024;abc;3\n".encode()
    page.locator("main input[type=file]").set_input_files(
        files=[{"name": "salaires.csv", "mimeType": "text/csv", "buffer": bad}]
    )
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("n'est pas un nombre")
    found["import refusé (POST /compte-atmp/imports)"] = all_violations(page)
    for year, expected in (("abc", "Erreur"), ("2027", "2027")):
        page.goto(f"{base_url}/compte-atmp/?siret={METZ}")
        page.locator("#annee").fill(year)
        page.get_by_role("button", name="Calculer et notifier").click()
        expect(page.locator("main")).to_contain_text(expected)
        found[f"notifier {year} (POST …/notifier)"] = all_violations(page)
    return found


def attestation_check_page(page, base_url: str, account_path: str) -> str:
    """The public check page showing an attestation the employer issues now (its code)."""
    page.goto(base_url + account_path)
    form = page.locator("main form[action$='/attestation']")
    token = form.locator("input[name=csrf_token]").get_attribute("value")
    response = page.request.post(base_url + form.get_attribute("action"), form={"csrf_token": token})
    assert response.ok and response.headers["content-type"] == "application/pdf", response.url
    code = re.search(r"/attestations/([^/]+)\.pdf$", response.url).group(1)
    return f"/compte-atmp/verifier-attestation?code={code}"


TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def all_violations(page) -> list[dict]:
    """Every axe-core violation of the page, whatever its impact, WCAG rules and best practices."""
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async (tags) => await axe.run(document,"
        " {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        TAGS,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "tags": v["tags"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]


@pytest.mark.parametrize("email", list(PAGES), ids=lambda e: e or "anonyme")
def test_axe_finds_nothing_at_any_impact_on_the_audited_pages(browser, demo_server, email):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    if email:
        login_as(page, demo_server.url, email, DEMO_PASSWORD)
    found = {}
    paths = list(PAGES[email])
    if email in CHAINS:
        chain = follow_chain(page, demo_server.url, CHAINS[email])
        paths += chain
        if email == "employeur@demo.test":
            paths.append(attestation_check_page(page, demo_server.url, chain[0]))
    for path in paths:
        response = page.goto(demo_server.url + path)
        assert response.status == STATUS.get(path, 200), path
        found[path] = all_violations(page)
    if email == "agent.carsat@demo.test":
        found.update(carsat_results(page, demo_server.url))
    for listing in FOLLOW.get(email, []):
        page.goto(demo_server.url + listing)
        left = page.url
        page.locator("main table a").first.click()
        page.wait_for_url(lambda url, left=left: url != left)
        found[page.url] = all_violations(page)
    found = {path: violations for path, violations in found.items() if violations}
    assert not found, json.dumps(found, indent=1, ensure_ascii=False)
    context.close()


def contrast(first: tuple[int, ...], second: tuple[int, ...]) -> float:
    """WCAG contrast ratio of two sRGB colours."""

    def luminance(rgb):
        channels = [c / 255 for c in rgb[:3]]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def rgb(css: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", css)[:3])


def test_a_scrollable_table_shows_its_focus_with_3_to_1_against_white(browser, demo_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    page = context.new_page()
    login_as(page, demo_server.url, "employeur@demo.test", DEMO_PASSWORD)
    page.goto(demo_server.url + "/dat/")
    region = page.get_by_role("region", name="Déclarations transmises")
    region.focus()
    expect(region).to_be_focused()
    style = region.evaluate(
        "el => { const s = getComputedStyle(el); return {outline: s.outlineColor, width: s.outlineWidth,"
        " style: s.outlineStyle, shadow: s.boxShadow}; }"
    )
    white = (255, 255, 255)
    # The outermost ring is what touches the white page: the box shadow when there is one.
    outer = rgb(style["shadow"]) if style["shadow"] != "none" else rgb(style["outline"])
    assert style["style"] != "none" and contrast(outer, white) >= 3, style
    context.close()


@pytest.mark.parametrize(
    ("email", "path"), [("employeur@demo.test", "/dat/"), ("agent.cpam@demo.test", "/cpam/declarations")]
)
def test_the_list_counts_live_region_stays_in_the_page_and_only_its_text_changes(
    browser, demo_server, email, path
):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    page = context.new_page()
    login_as(page, demo_server.url, email, DEMO_PASSWORD)
    page.goto(demo_server.url + path)
    status = page.get_by_role("status").filter(has_text="déclaration")
    expect(status).to_have_count(1)
    before = status.text_content()
    handle = status.element_handle()
    page.locator("form[role=search] #q").fill("zzz-aucun")
    expect(status).to_contain_text("« zzz-aucun »")
    assert status.text_content() != before
    # The very element the screen reader watches, not a new one put in its place; no second one.
    assert handle.evaluate("el => el.isConnected && el.getAttribute('role') === 'status'")
    expect(page.get_by_role("status").filter(has_text="déclaration")).to_have_count(1)
    assert_accessible(page)
    context.close()
