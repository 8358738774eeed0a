"""The vocabulary of accounts and access (SPEC §1): the employer services and the kinds of users.
Pure names, shared by the models, the services and the screens."""

from __future__ import annotations

import enum


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
