"""The vocabulary of accounts and access (SPEC §1): the employer services and the kinds of users.
Pure names, shared by the models, the services and the screens."""

from __future__ import annotations

import enum
import unicodedata


class Service(enum.StrEnum):
    """The employer teleservices a habilitation or a mandate can cover."""

    DAT = "dat"
    QRPRO = "qrpro"
    LUCIE = "lucie"
    SUBVENTIONS = "subventions"
    COMPTE = "compte"

    @property
    def label(self) -> str:
        return SERVICE_LABELS[self]


SERVICE_LABELS = {
    Service.DAT: "Déclaration d'accident du travail",
    Service.QRPRO: "Questionnaires risques professionnels",
    Service.LUCIE: "Courriers (LUCIE)",
    Service.SUBVENTIONS: "Subventions Prévention TPE",
    Service.COMPTE: "Compte AT/MP",
}


class UserKind(enum.StrEnum):
    EMPLOYER = "employer"  # staff of a company (habilitations per establishment × service)
    FIRM = "firm"  # tiers déclarant (acts through its firm's mandates)
    CPAM = "cpam"  # caisse primaire agent
    CARSAT = "carsat"  # caisse régionale agent
    VICTIM = "victim"  # assuré(e) of a case: no company, sees only their own cases' drafts (SPEC §1)


# Browsers and systems named in a User-Agent header, most specific first (Edge and Opera also say
# "Chrome", Chrome also says "Safari", Android also says "Linux").
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def user_agent_summary(user_agent: str) -> str:
    """« Firefox sous Windows »: enough of a User-Agent header for a person to recognise a device in
    their list of sessions; never the raw header (it is long and the client writes what it likes)."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser and system:
        return f"{browser} sous {system}"
    return browser or system or "Navigateur inconnu"


# Characters a person's or an organisation's name never holds: control and format characters
# (Unicode categories Cc, Cf: a line break, a NUL, a right-to-left override…), and markup.


def without_control_characters(value: str) -> str:
    """``value`` without its control and format characters: what a refused name is shown again as
    (a NUL cannot be written back into a page)."""
    return "".join(char for char in value if unicodedata.category(char) not in ("Cc", "Cf"))
