"""Valid answers of the four QR Pro questionnaires (app/workflows/models/qr-*.yaml) and a browser that
fills one through the pages, without JavaScript, page after page as a party would (issue 13)."""

from __future__ import annotations

import html
import io
import re

from app.extensions import db
from app.models import Draft
from tests.factories import PASSWORD

# Per model: (page, answers) in the order of the path; a group page has a list of items.
VALID = {
    "qr-at-employeur": [
        (
            "connaissance",
            {
                "connaissance_mode": "victime",
                "connaissance_date": ["3", "11", "2026"],
                "connaissance_heure": "",
            },
        ),
        (
            "lieu_heure",
            {
                "accident_date": ["2", "11", "2026"],
                "accident_heure": "16:40",
                "lieu": "lieu_habituel",
                "lieu_precision": "Quai de chargement n° 3",
            },
        ),
        (
            "circonstances",
            {"circonstances_recit": "Chute d'un carton selon la victime.", "constat_materiel": ""},
        ),
        (
            "horaires",
            {"horaire_debut": "8:00", "horaire_fin": "17:00", "horaire_pauses": "", "au_travail": "oui"},
        ),
        ("taches", {"poste": "Préparateur", "taches_moment": "Rangement", "taches_habituelles": "non"}),
        ("tache_inhabituelle", {"tache_demandeur": "Le chef d'équipe, pour un inventaire."}),
        (
            "temoins_liste",
            [
                {
                    "temoin_nom": "Léa Martin",
                    "temoin_qualite": "collegue",
                    "temoin_vu": "apres",
                    "temoin_telephone": "",
                }
            ],
        ),
        ("antecedents", {"antecedents_connus": "non"}),
        ("reserves", {"reserves_emises": "oui"}),
        (
            "reserves_motifs",
            {
                "motifs": ["temps", "sans_temoin"],
                "motifs_detail": "Le salarié avait badgé la sortie à 16 h 30.",
            },
        ),
        ("pieces", {"remarques": ""}),
    ],
    "qr-at-victime": [
        (
            "quand",
            {"accident_date": ["2", "11", "2026"], "accident_heure": "16:40", "horaire": "8:00 à 17:00"},
        ),
        ("ou", {"lieu": "lieu_habituel", "lieu_precision": "L'entrepôt, quai 3"}),
        (
            "recit",
            {"activite": "Je rangeais des cartons.", "recit_faits": "Un carton est tombé sur mon épaule."},
        ),
        (
            "information",
            {
                "informe_qui": "M. Roy, chef d'équipe",
                "informe_date": ["2", "11", "2026"],
                "informe_heure": "17:00",
                "informe_comment": "oral",
            },
        ),
        ("temoins_question", {"temoins_presents": "oui"}),
        (
            "temoins_liste",
            [{"temoin_nom": "Léa Martin", "temoin_vu": "apres", "temoin_telephone": "0612345678"}],
        ),
        ("soins", {"soins_jour": "oui"}),
        ("soins_detail", {"soins_par": "secouriste", "soins_lieu": "Infirmerie"}),
        ("consultation", {"consultation_date": ["3", "11", "2026"]}),
        ("pieces", {"remarques": ""}),
    ],
    "qr-mp-employeur": [
        ("emploi", {"date_entree": ["1", "9", "2015"], "contrat": "cdi", "en_activite": "oui"}),
        (
            "postes_liste",
            [
                {
                    "poste_intitule": "Cariste",
                    "poste_debut": ["1", "9", "2015"],
                    "poste_fin": ["", "", ""],
                    "poste_taches": "Conduite d'un chariot élévateur.",
                    "poste_gestes": "Vibrations du chariot, rotations du buste.",
                    "poste_heures_jour": "6,5",
                    "poste_jours_semaine": "5",
                }
            ],
        ),
        ("protections", {"epi_fournis": "non"}),
        ("prevention", {"document_unique": "oui", "mesures_collectives": ""}),
        ("avis", {"exposition": "ne_sait_pas"}),
        ("avis_motifs", {"avis_explication": "Le siège du chariot est suspendu depuis 2019."}),
        ("pieces", {"remarques": ""}),
    ],
    "qr-mp-victime": [
        (
            "maladie",
            {
                "premiers_symptomes": ["1", "3", "2024"],
                "lien_travail": "Douleurs après le travail.",
                "en_activite": "oui",
            },
        ),
        (
            "emplois_liste",
            [
                {
                    "emploi_employeur": "Transports Lorrains",
                    "emploi_poste": "Cariste",
                    "emploi_debut": ["1", "9", "2015"],
                    "emploi_fin": ["", "", ""],
                    "emploi_taches": "Chargement des camions.",
                    "emploi_gestes": "Bras levés, charges de 20 kg.",
                    "emploi_heures_jour": "6",
                    "emploi_protections": "",
                },
                {
                    "emploi_employeur": "Bâtiments de l'Est",
                    "emploi_poste": "Manœuvre",
                    "emploi_debut": ["1", "3", "2008"],
                    "emploi_fin": ["31", "8", "2015"],
                    "emploi_taches": "Port de parpaings.",
                    "emploi_gestes": "Charges lourdes.",
                    "emploi_heures_jour": "7,5",
                    "emploi_protections": "Gants",
                },
            ],
        ),
        ("protections", {"epi_fournis": "non"}),
        ("loisirs", {"activites": "non"}),
        ("pieces", {"remarques": ""}),
    ],
}


def fresh(draft_id: int) -> Draft:
    db.session.expire_all()
    return db.session.get(Draft, draft_id)


class Party:
    """A signed-in party (an employer's user, a firm's user or the victim) filling a draft's pages."""

    def __init__(self, app, user, password: str = PASSWORD):
        self.client = app.test_client()
        token = self.client.csrf("/connexion")
        response = self.client.post(
            "/connexion", data={"email": user.email, "password": password, "csrf_token": token}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        self.token = self.client.csrf("/demarches/")

    def post(self, url: str, data: dict, *, files: dict | None = None):
        draft_id = int(re.search(r"/brouillons/(\d+)", url).group(1))
        form = {"csrf_token": self.token, "version": str(fresh(draft_id).version), **data}
        if files:
            form.update({name: (io.BytesIO(body), filename) for name, (body, filename) in files.items()})
            return self.client.post(url, data=form, content_type="multipart/form-data")
        return self.client.post(url, data=form)

    def page(self, url: str) -> str:
        return html.unescape(self.client.get(url).get_data(as_text=True))

    def fill(self, draft_id: int, code: str, *, until: str | None = None) -> str:
        """Answer every page of ``VALID[code]`` (up to, not including, ``until``); returns where the
        last « Continuer » led."""
        steps = f"/demarches/brouillons/{draft_id}/etapes"
        location = ""
        for page, answers in VALID[code]:
            if page == until:
                break
            if isinstance(answers, list):
                for item in answers:
                    response = self.post(
                        f"{steps}/{page}/elements", {"action": "continue", "element": "", **item}
                    )
                    assert response.status_code == 303, (page, response.get_data(as_text=True)[:3000])
                    assert response.headers["Location"].endswith(f"/etapes/{page}"), response.headers[
                        "Location"
                    ]
                response = self.post(f"{steps}/{page}", {"action": "continue"})
            else:
                response = self.post(f"{steps}/{page}", {"action": "continue", **answers})
            assert response.status_code == 303, (page, response.get_data(as_text=True)[:3000])
            location = response.headers["Location"]
        return location
