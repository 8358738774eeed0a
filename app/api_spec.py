"""OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

tests/integration/test_api_contract.py keeps it true: every route under /api/v1 is described here,
and every response described here is produced by a test whose body matches the schema.
"""

from __future__ import annotations

import re

from app.domain.lucie import CONTROL_CHARACTER, LETTER_TYPE_LABELS
from app.services.lucie import IDEMPOTENCY_KEY_RE, MAX_IDEMPOTENCY_KEY, MAX_REFERENCE, MAX_TITLE

API_VERSION = "1.1.0"

# What the server enforces on the values as sent, stated once: the description publishes these
# patterns and app/views/api.py checks the form fields with the same ones. They use explicit
# character classes and no `$` (whose meaning before a final newline differs between Python and
# ECMA-262), so every JSON Schema validator reads them alike.
SIRET_PATTERN = "^[0-9]{14}$"
# A character that is neither a control character nor a space (the spaces str.strip() removes).
VISIBLE_CHARACTER = "[^\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
# A reference is letters, digits, spaces and . / _ -, starting with a letter or a digit.
REFERENCE_FORBIDDEN = "[^A-Za-z0-9 ./_-]|^[ ./_-]"
LETTER_ID_MAX = 2**31 - 1  # the database's INTEGER; a larger id answers 404 (app/web.py)


def matches(pattern: str, value: str) -> bool:
    """Whether ``value`` satisfies a JSON Schema ``pattern`` (an unanchored search)."""
    return re.search(pattern, value) is not None


def _error(description: str, example_code: str, headers: dict | None = None) -> dict:
    return {
        "description": description,
        **({"headers": headers} if headers else {}),
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Error"},
                "example": {"error": example_code, "message": "Texte en français pour la personne."},
            }
        },
    }


UNAUTHORIZED = {
    "WWW-Authenticate": {
        "required": True,
        "schema": {"type": "string", "pattern": "^Bearer"},
        "description": "Toujours `Bearer` : le schéma d'authentification attendu.",
    }
}
RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
        "description": "Nombre de secondes à attendre avant de réessayer.",
    }
}


def _common_errors() -> dict:
    return {
        "401": _error(
            "Jeton absent, invalide ou révoqué (`unauthorized`).", "unauthorized", headers=UNAUTHORIZED
        ),
        "429": _error(
            "Trop de requêtes (`too_many_requests`) : la limite compte par jeton valide, et par adresse "
            "du client tant qu'aucun jeton valide n'est présenté.",
            "too_many_requests",
            headers=RETRY_AFTER,
        ),
    }


def openapi_document(base_url: str, max_upload_bytes: int = 10 * 1024 * 1024) -> dict:
    types = [str(t) for t in LETTER_TYPE_LABELS]
    max_mo = f"{max_upload_bytes / (1024 * 1024):g}".replace(".", ",")
    type_doc = "; ".join(f"`{t}` : {label}" for t, label in LETTER_TYPE_LABELS.items())
    letter_properties = {
        "id": {
            "type": "integer",
            "minimum": 1,
            "maximum": LETTER_ID_MAX,
            "description": "Numéro du courrier.",
        },
        "siret": {"type": "string", "pattern": SIRET_PATTERN},
        "type": {"type": "string", "enum": types},
        "titre": {"type": "string", "maxLength": MAX_TITLE},
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
                "français. Une adresse inconnue sous `/api/` répond 404 (`not_found`) ; une méthode qu'une "
                "adresse ne prévoit pas répond 405 (`method_not_allowed`) avec l'en-tête `Allow` qui liste "
                "les méthodes possibles (RFC 9110)."
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
                        "chaque adresse abonnée. Le courrier est ensuite immuable. L'établissement doit être "
                        "du territoire de la caisse (un établissement de ses départements ou, pour une CPAM, "
                        "l'employeur de la victime de l'une de ses déclarations, où qu'il soit) et abonné à "
                        "LUCIE : sinon 404. Avec "
                        "`Idempotency-Key`, une requête rejouée avec la même clé (par la même caisse) et le "
                        "même contenu renvoie le même courrier, sans second courrier ni seconde alerte "
                        "(réponse 201 avec l'en-tête `Idempotent-Replayed: true`) ; la même clé avec un "
                        "autre contenu est refusée (422, `idempotency_key_reused`). Deux caisses peuvent "
                        "utiliser la même clé sans se gêner."
                    ),
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": (
                                f"Clé choisie par la caisse (1 à {MAX_IDEMPOTENCY_KEY} caractères ASCII "
                                "visibles, sans espace)."
                            ),
                            "schema": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": MAX_IDEMPOTENCY_KEY,
                                "pattern": IDEMPOTENCY_KEY_RE.pattern,
                            },
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
                                            "pattern": SIRET_PATTERN,
                                            "description": (
                                                "SIRET (14 chiffres) d'un établissement du territoire de la "
                                                "caisse (de ses départements ou, pour une CPAM, "
                                                "employant l'un de ses assurés victimes), abonné à "
                                                "LUCIE. Le numéro n'est pas contrôlé par "
                                                "sa clé : c'est l'établissement qui doit exister. Un SIRET "
                                                "inconnu ou hors du territoire répond 404 "
                                                "(`unknown_establishment`), un établissement non abonné "
                                                "404 (`not_subscribed`)."
                                            ),
                                        },
                                        "type": {"type": "string", "enum": types, "description": type_doc},
                                        "reference_dossier": {
                                            "type": "string",
                                            "maxLength": MAX_REFERENCE,
                                            "not": {"pattern": REFERENCE_FORBIDDEN},
                                            "description": (
                                                "Référence du dossier (facultative) : lettres, chiffres, "
                                                "espaces et `. / _ -`, commençant par une lettre ou un "
                                                "chiffre."
                                            ),
                                        },
                                        "titre": {
                                            "type": "string",
                                            "minLength": 1,
                                            "maxLength": MAX_TITLE,
                                            "pattern": VISIBLE_CHARACTER,
                                            "not": {"pattern": CONTROL_CHARACTER},
                                            "description": (
                                                "Titre affiché dans la boîte : au moins un caractère "
                                                "visible, sans caractère de contrôle (ni retour à la "
                                                "ligne)."
                                            ),
                                        },
                                        "fichier": {
                                            "type": "string",
                                            "format": "binary",
                                            "contentMediaType": "application/pdf",
                                            "minLength": 1,
                                            "maxLength": max_upload_bytes,
                                            "description": (
                                                "Le courrier en PDF, envoyé comme fichier (partie avec "
                                                "`filename`). Son type est vérifié sur le contenu, quel que "
                                                "soit son nom : autre chose qu'un PDF répond 415. Vide : "
                                                f"422 ; plus de {max_mo} Mo ({max_upload_bytes} "
                                                "octets) : 413."
                                            ),
                                        },
                                    },
                                },
                                "encoding": {"fichier": {"contentType": "application/pdf"}},
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Courrier déposé (ou déjà déposé avec cette clé d'idempotence).",
                            "headers": {
                                "Location": {
                                    "required": True,
                                    "schema": {"type": "string", "pattern": "^/api/v1/courriers/[0-9]+$"},
                                    "description": "L'adresse du courrier, à lire avec `GET`.",
                                },
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
                            "links": {
                                "lireCourrier": {
                                    "operationId": "lireCourrier",
                                    "parameters": {"id": "$response.body#/id"},
                                    "description": "Le courrier déposé, et ses dates légales.",
                                }
                            },
                        },
                        "404": _error(
                            "SIRET inconnu ou hors du territoire de la caisse (`unknown_establishment`), ou "
                            "établissement non abonné à LUCIE (`not_subscribed`).",
                            "not_subscribed",
                        ),
                        "413": _error(
                            f"Fichier de plus de {max_mo} Mo, ou requête entière trop volumineuse "
                            "(`file_too_large`).",
                            "file_too_large",
                        ),
                        "415": _error(
                            "Le fichier n'est pas un PDF, vérifié sur son contenu "
                            "(`unsupported_media_type`).",
                            "unsupported_media_type",
                        ),
                        "422": _error(
                            "Champs absents ou invalides, dont un fichier vide (`invalid_fields`, détail par "
                            "champ dans `fields`), ou clé d'idempotence déjà utilisée pour un autre contenu "
                            "(`idempotency_key_reused`).",
                            "invalid_fields",
                        ),
                        "507": _error(
                            "Le stockage des fichiers de la plateforme est plein (`storage_full`) : rien n'a "
                            "été déposé ; réessayez plus tard avec la même clé d'idempotence.",
                            "storage_full",
                        ),
                        **_common_errors(),
                    },
                }
            },
            "/courriers/{id}": {
                "get": {
                    "operationId": "lireCourrier",
                    "summary": "Lire un courrier déposé par la caisse et ses dates légales",
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "description": "Numéro du courrier (réponse du dépôt, champ `id`).",
                            "schema": {"type": "integer", "minimum": 1, "maximum": LETTER_ID_MAX},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "Le courrier et ses dates.",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Letter"}}
                            },
                        },
                        "404": _error(
                            "Aucun courrier de cette caisse ne porte ce numéro (`not_found`).", "not_found"
                        ),
                        **_common_errors(),
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
                                "Date de notification réputée : la première consultation par une personne "
                                "de l'entreprise, ou, si personne ne l'a ouverte avant, la date que donne "
                                "la lecture légale configurée (LUCIE_NOTIFICATION_READING : par défaut la "
                                "mise à disposition + 15 jours calendaires, heure locale de "
                                "l'établissement) ; null tant qu'elle n'est pas acquise."
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
