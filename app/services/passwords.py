"""Password hashing with Argon2id (argon2-cffi's recommended parameters; cheaper ones in tests)."""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import secrets

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError
from argon2.low_level import core, ffi, lib
from flask import current_app, has_app_context

_strong = PasswordHasher()
_fast = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)  # tests only (PASSWORD_HASH_FAST)

MIN_LENGTH = 12


def _hasher() -> PasswordHasher:
    if has_app_context() and current_app.config.get("PASSWORD_HASH_FAST"):
        return _fast
    return _strong


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches. A missing hash (invited user, unknown e-mail) never matches,
    after the same work as a real check: the time of a refusal does not tell which accounts exist."""
    if not password_hash:
        verify_on_one_thread(_no_ones_hash(_hasher()), password)
        return False
    return verify_on_one_thread(password_hash, password)


@functools.cache
def _no_ones_hash(hasher: PasswordHasher) -> str:
    """The hash of a password nobody knows, with ``hasher``'s parameters (made once per process)."""
    return hasher.hash(secrets.token_urlsafe(32))


def verify_on_one_thread(password_hash: str, password: str) -> bool:
    """argon2-cffi's ``PasswordHasher.verify``, as a boolean, computed on one thread.

    The same Argon2 with the hash's own parameters (argon2-cffi's defaults: 4 lanes, 64 MiB, 3
    passes) and the same answer; only the schedule differs. argon2-cffi's ``verify`` runs a thread
    per lane, so each sign-in took both cores of a two-core server for a tenth of a second and every
    other request waited behind it; here one thread fills the four lanes in turn, on one core, for
    the same CPU time (about 150 ms: docs/performance.md, « Argon2 on one thread »). The lanes, not
    the threads, are the parameter of the hash (RFC 9106's p; the reference implementation computes
    the lanes on as many threads as it is given)."""
    try:
        parameters = extract_parameters(password_hash)
        salt, digest = (_unpadded_base64(part) for part in password_hash.rsplit("$", 2)[1:])
    except (InvalidHashError, binascii.Error, ValueError):
        return False
    # cffi frees what ffi.new returned with its Python object: each buffer is kept in a name until
    # the hash is computed (the context holds only their addresses).
    secret = password.encode()
    out, pwd, salt_buffer = (ffi.new("uint8_t[]", value) for value in (len(digest), secret, salt))
    context = ffi.new(
        "argon2_context *",
        {
            "out": out,
            "outlen": len(digest),
            "pwd": pwd,
            "pwdlen": len(secret),
            "salt": salt_buffer,
            "saltlen": len(salt),
            "secret": ffi.NULL,
            "secretlen": 0,
            "ad": ffi.NULL,
            "adlen": 0,
            "t_cost": parameters.time_cost,
            "m_cost": parameters.memory_cost,
            "lanes": parameters.parallelism,
            "threads": 1,
            "version": parameters.version,
            "allocate_cbk": ffi.NULL,
            "free_cbk": ffi.NULL,
            "flags": lib.ARGON2_DEFAULT_FLAGS,
        },
    )
    if core(context, parameters.type.value) != lib.ARGON2_OK:
        return False  # parameters the library refuses: no password matches them
    return hmac.compare_digest(ffi.buffer(out)[:], digest)


def _unpadded_base64(text: str) -> bytes:
    """The salt and hash of an encoded Argon2 hash: standard base64 without its padding (PHC format)."""
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


# --- Strength: zxcvbn's estimate, explained in French ----------------------------------------

#: zxcvbn's score (0–4) a new password must reach: 4, over 10¹⁰ guesses. Twelve characters that are
#: not a pattern, a common password or the person's own name reach it easily.
MIN_SCORE = 4
#: Words every account of this platform would be tempted to use.
PLATFORM_WORDS = ("atmp", "at/mp", "accident", "travail", "maladie", "professionnelle", "cpam", "carsat")
_ZXCVBN_MAX = 72  # zxcvbn refuses longer passwords; their first 72 characters are estimated

# zxcvbn's warnings (it ships no French), each with what to do instead.
_WARNINGS_FR = {
    "Straight rows of keys are easy to guess.": "une rangée de touches du clavier se devine facilement",
    "Short keyboard patterns are easy to guess.": "un motif du clavier se devine facilement",
    'Repeats like "aaa" are easy to guess.': "une répétition comme « aaa » se devine facilement",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': (
        "une répétition comme « abcabcabc » se devine presque aussi facilement que « abc »"
    ),
    'Sequences like "abc" or "6543" are easy to guess.': (
        "une suite comme « abc » ou « 6543 » se devine facilement"
    ),
    "Recent years are easy to guess.": "une année récente se devine facilement",
    "Dates are often easy to guess.": "une date se devine facilement",
    "This is a top-10 common password.": "c'est l'un des 10 mots de passe les plus courants",
    "This is a top-100 common password.": "c'est l'un des 100 mots de passe les plus courants",
    "This is a very common password.": "c'est un mot de passe très courant",
    "This is similar to a commonly used password.": "il ressemble à un mot de passe très courant",
    "A word by itself is easy to guess.": "un mot seul se devine facilement",
    "Names and surnames by themselves are easy to guess.": "un nom ou un prénom seul se devine facilement",
    "Common names and surnames are easy to guess.": "les noms et prénoms courants se devinent facilement",
}


def strength_problem(password: str, user_inputs: tuple[str, ...] | list[str] = ()) -> str | None:
    """Why ``password`` is too easy to guess, in French, or None when it is strong enough. zxcvbn
    estimates the guesses an attacker needs, knowing the common passwords, words, names, keyboard
    patterns, dates, repeats and sequences, and ``user_inputs`` (the person's e-mail and name, which an
    attacker knows too) with :data:`PLATFORM_WORDS`."""
    from zxcvbn import zxcvbn

    inputs = [*PLATFORM_WORDS]
    for value in user_inputs:
        if value:
            inputs.append(value)
            inputs.extend(part for part in _words(value) if len(part) > 2)
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=inputs)
    # zxcvbn counts « camille.martin2026 » as 10¹² guesses (a separator, a year); an attacker who
    # knows the name tries it early. Without the person's words, too few letters are left.
    rest = password.lower()
    for word in sorted({w for value in inputs for w in _words(value) if len(w) > 2}, key=len, reverse=True):
        rest = rest.replace(word, "")
    mostly_inputs = rest != password.lower() and sum(ch.isalpha() for ch in rest) < 4
    if result["score"] >= MIN_SCORE and not mostly_inputs:
        return None
    matched_inputs = mostly_inputs or any(
        m.get("dictionary_name") == "user_inputs" for m in result["sequence"]
    )
    warning = result["feedback"].get("warning") or ""
    if matched_inputs:
        reason = "il reprend votre nom, votre adresse e-mail ou le nom du service"
    else:
        reason = _WARNINGS_FR.get(warning, "")
    message = "Ce mot de passe est trop facile à deviner"
    if reason:
        message += f" : {reason}"
    return message + ". Choisissez par exemple trois ou quatre mots sans rapport entre eux"


def _words(value: str) -> list[str]:
    """« jean.dupont@exemple.fr » → jean, dupont, exemple, fr: the parts someone would reuse."""
    word, words = "", []
    for char in value.lower():
        if char.isalnum():
            word += char
        elif word:
            words.append(word)
            word = ""
    if word:
        words.append(word)
    return words
