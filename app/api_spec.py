"""OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

tests/integration/test_api_contract.py keeps it true: every route under /api/v1 is described here,
and every response described here is produced by a test whose body matches the schema.
"""

from __future__ import annotations

from app.domain.lucie import LETTER_TYPE_LABELS

API_VERSION = "1.0.0"


def _error(description: str, example_code: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Error"},
                "example": {"error": example_code, "message": "Texte en français pour la personne."},
            }
        },
    }


def openapi_document(base_url: str) -> dict:
    types = [str(t) for t in LETTER_TYPE_LABELS]
    type_doc = "; ".join(f"`{t}` : {label}" for t, label in LETTER_TYPE_LABELS.items())
    letter_properties = {
        "id": {"type": "integer", "description": "Numéro du courrier."},
        "siret": {"type": "string", "pattern": "^[0-9]{14}$"},
        "type": {"type": "string", "enum": types},
        "titre": {"type": "string", "maxLength": 200},
        "deposited_at": {
            "type": "string",
            "format": "date-time",
            "description": "Date de mise à disposition (UTC).",
        },
        "sha256": {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$",
            "description": "Empreinte SHA-256 du PDF déposé.",
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "API LUCIE des caisses",
            "version": API_VERSION,
            "description": (
                "Dépôt de courriers dans la boîte aux lettres LUCIE des établissements, et lecture de leurs "
                "dates légales. Chaque caisse s'authentifie avec son jeton (`Authorization: Bearer <jeton>`, "
                'créé par `flask api-token create --caisse "<nom>"`) et ne voit que les courriers qu\'elle a '
                'déposés. Les erreurs sont des objets JSON `{"error", "message"}` ; `message` est en '
                "français."
            ),
        },
        "servers": [{"url": f"{base_url}/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/courriers": {
                "post": {
                    "operationId": "deposerCourrier",
                    "summary": "Déposer un courrier",
                    "description": (
                        "Dépose un PDF dans la boîte LUCIE de l'établissement et envoie l'alerte e-mail à "
                        "chaque "
                        "adresse abonnée. Le courrier est ensuite immuable. Avec `Idempotency-Key`, une "
                        "requête "
                        "rejouée avec la même clé (par la même caisse) et le même contenu renvoie le même "
                        "courrier, "
                        "sans second courrier ni seconde alerte (réponse 201 avec l'en-tête "
                        "`Idempotent-Replayed: true`) ; la même clé avec un autre contenu est refusée (422, "
                        "`idempotency_key_reused`). Deux caisses peuvent utiliser la même clé sans se gêner."
                    ),
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": "Clé choisie par la caisse (1 à 200 caractères ASCII visibles).",
                            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["siret", "type", "titre", "fichier"],
                                    "properties": {
                                        "siret": {
                                            "type": "string",
                                            "pattern": "^[0-9]{14}$",
                                            "description": (
                                                "SIRET de l'établissement destinataire, abonné à LUCIE."
                                            ),
                                        },
                                        "type": {"type": "string", "enum": types, "description": type_doc},
                                        "reference_dossier": {
                                            "type": "string",
                                            "maxLength": 40,
                                            "description": "Référence du dossier (facultative).",
                                        },
                                        "titre": {"type": "string", "minLength": 1, "maxLength": 200},
                                        "fichier": {
                                            "type": "string",
                                            "contentMediaType": "application/pdf",
                                            "description": (
                                                "Le courrier en PDF (type vérifié sur le contenu)."
                                            ),
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Courrier déposé (ou déjà déposé avec cette clé d'idempotence).",
                            "headers": {
                                "Location": {"schema": {"type": "string"}},
                                "Idempotent-Replayed": {
                                    "schema": {"type": "string", "enum": ["true"]},
                                    "description": "Présent quand la réponse rejoue un dépôt antérieur.",
                                },
                            },
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/LetterDeposited"}
                                }
                            },
                        },
                        "401": _error("Jeton absent, invalide ou révoqué.", "unauthorized"),
                        "404": _error(
                            "SIRET inconnu, hors du territoire de la caisse, ou établissement non abonné à "
                            "LUCIE.",
                            "not_subscribed",
                        ),
                        "413": _error("Fichier trop volumineux.", "file_too_large"),
                        "415": _error(
                            "Le fichier n'est pas un PDF (vérifié sur son contenu).", "unsupported_media_type"
                        ),
                        "422": _error(
                            "Champs absents ou invalides (`invalid_fields`, détail par champ dans "
                            "`fields`), ou clé "
                            "d'idempotence déjà utilisée pour un autre contenu (`idempotency_key_reused`).",
                            "invalid_fields",
                        ),
                        "429": _error("Trop de requêtes pour ce jeton.", "too_many_requests"),
                    },
                }
            },
            "/courriers/{id}": {
                "get": {
                    "operationId": "lireCourrier",
                    "summary": "Lire un courrier déposé par la caisse et ses dates légales",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                    ],
                    "responses": {
                        "200": {
                            "description": "Le courrier et ses dates.",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Letter"}}
                            },
                        },
                        "401": _error("Jeton absent, invalide ou révoqué.", "unauthorized"),
                        "404": _error("Aucun courrier de cette caisse ne porte ce numéro.", "not_found"),
                        "429": _error("Trop de requêtes pour ce jeton.", "too_many_requests"),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "descriptionOpenApi",
                    "summary": "Cette description OpenAPI",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "Le document OpenAPI 3.1.",
                            "content": {
                                "application/json": {"schema": {"type": "object", "required": ["openapi"]}}
                            },
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {"type": "string", "description": "Code stable, pour les programmes."},
                        "message": {"type": "string", "description": "Explication en français."},
                        "fields": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                            "description": "Erreur par champ (422).",
                        },
                    },
                },
                "LetterDeposited": {
                    "type": "object",
                    "required": list(letter_properties),
                    "additionalProperties": False,
                    "properties": letter_properties,
                },
                "Letter": {
                    "type": "object",
                    "required": [
                        *letter_properties,
                        "reference_dossier",
                        "alert_sent_at",
                        "first_consulted_at",
                        "deemed_notified_at",
                        "appeal_deadline",
                    ],
                    "additionalProperties": False,
                    "properties": {
                        **letter_properties,
                        "reference_dossier": {"type": ["string", "null"]},
                        "alert_sent_at": {
                            "type": ["string", "null"],
                            "format": "date-time",
                            "description": (
                                "Envoi de la première alerte e-mail (accepté par le serveur SMTP)."
                            ),
                        },
                        "first_consulted_at": {
                            "type": ["string", "null"],
                            "format": "date-time",
                            "description": (
                                "Première consultation par l'établissement (enregistrée une seule fois)."
                            ),
                        },
                        "deemed_notified_at": {
                            "type": ["string", "null"],
                            "format": "date-time",
                            "description": (
                                "Date de notification réputée : la première consultation, ou la mise à "
                                "disposition "
                                "+ 15 jours si personne ne l'a ouvert avant ; null tant qu'elle n'est pas "
                                "acquise."
                            ),
                        },
                        "appeal_deadline": {
                            "type": ["string", "null"],
                            "format": "date",
                            "description": (
                                "Décisions seulement : dernier jour du délai de recours de 2 mois, une "
                                "fois la "
                                "notification acquise."
                            ),
                        },
                    },
                },
            },
        },
    }
