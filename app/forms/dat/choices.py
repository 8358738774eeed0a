"""The DAT's lists of choices (sexes, qualifications, contracts, places, body parts…): the codes stored
in the answers and the labels people read.
"""

from __future__ import annotations

from collections.abc import Mapping

from wtforms import SelectChoice

from app.domain import dat as rules

SEXES = {"M": "Homme", "F": "Femme"}
NATIONALITES = {"francaise": "Française", "ue": "D'un autre pays de l'Union européenne", "autre": "Autre"}
QUALIFICATIONS = {
    "cadre": "Cadre",
    "technicien": "Technicien",
    "agent_maitrise": "Agent de maîtrise",
    "employe": "Employé",
    "ouvrier_qualifie": "Ouvrier qualifié",
    "ouvrier_non_qualifie": "Ouvrier non qualifié",
    "apprenti": "Apprenti",
    "autre": "Autre",
}
CONTRATS = {
    "cdi": "Contrat à durée indéterminée (CDI)",
    "cdd": "Contrat à durée déterminée (CDD)",
    "interim": "Intérim (travail temporaire)",
    "apprentissage": "Contrat d'apprentissage",
    "autre": "Autre",
}
LIEUX = rules.LIEUX
SIEGES = {
    "tete": "Tête, face",
    "yeux": "Yeux",
    "cou": "Cou",
    "epaule": "Épaule",
    "bras": "Bras",
    "coude": "Coude",
    "avant_bras": "Avant-bras",
    "poignet": "Poignet",
    "main": "Main",
    "doigts": "Doigts",
    "thorax": "Thorax",
    "dos": "Dos, colonne vertébrale",
    "abdomen": "Abdomen",
    "bassin": "Bassin, hanche",
    "cuisse": "Cuisse",
    "genou": "Genou",
    "jambe": "Jambe",
    "cheville": "Cheville",
    "pied": "Pied",
    "orteils": "Orteils",
    "multiples": "Localisations multiples",
    "voir_cmi": "Voir le certificat médical",
}
COTES = {
    "gauche": "Côté gauche",
    "droit": "Côté droit",
    "deux": "Les deux côtés",
    "sans_objet": "Sans objet",
}
NATURES_LESIONS = {
    "fracture": "Fracture",
    "entorse": "Entorse",
    "luxation": "Luxation",
    "plaie": "Plaie, coupure",
    "contusion": "Contusion, hématome",
    "brulure": "Brûlure",
    "lumbago": "Lumbago",
    "douleur": "Douleur sans autre précision",
    "corps_etranger": "Corps étranger",
    "malaise": "Malaise",
    "autre": "Autre",
    "voir_cmi": "Voir le certificat médical",
}
CONSEQUENCES = {
    "sans_arret": "Sans arrêt de travail",
    "avec_arret": "Avec arrêt de travail",
    "deces": "Décès",
}
MODES_CONNAISSANCE = {
    "constate": "Constaté par l'employeur ou l'un de ses préposés",
    "connu": "Porté à la connaissance de l'employeur",
    "decrit": "Décrit par la victime",
}
OUI_NON = {"oui": "Oui", "non": "Non"}
TEMOINS = {
    "oui": "Oui, un ou plusieurs témoins",
    "premiere_personne": "Non, mais une première personne a été avisée",
    "non": "Non, ni témoin ni personne avisée avant l'employeur",
}
RESERVES = {"non": "Non, je n'émets pas de réserves", "oui": "Oui, j'émets des réserves motivées"}
CATEGORIES = {
    "lieu_temps": "Les circonstances de temps et de lieu de l'accident",
    "cause_etrangere": "Une cause totalement étrangère au travail",
}
WITNESS_SLOTS = (1, 2, 3)


def choices(labels: Mapping[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]
