"""Password checks on one thread (app/services/passwords.py): the same answers as argon2-cffi's
``PasswordHasher.verify``, for the project's parameters and others, without a thread per lane."""

from __future__ import annotations

import os
import threading

import pytest
from argon2 import PasswordHasher, Type
from argon2.exceptions import VerificationError

from app.services.passwords import _strong, verify_on_one_thread, verify_password

PASSWORDS = ("correct horse battery staple", "", "é à € 日本語 — mot de passe", "x" * 200)
CHEAP = [
    PasswordHasher(time_cost=1, memory_cost=64, parallelism=1),
    PasswordHasher(time_cost=2, memory_cost=256, parallelism=2),
    PasswordHasher(time_cost=1, memory_cost=512, parallelism=8, hash_len=16, salt_len=8),
    PasswordHasher(time_cost=1, memory_cost=64, parallelism=2, type=Type.I),
    PasswordHasher(time_cost=1, memory_cost=64, parallelism=2, type=Type.D),
]


def argon2_cffi_says(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except VerificationError:
        return False


@pytest.mark.parametrize("hasher", CHEAP, ids=lambda h: f"{h.type.name}-t{h.time_cost}-p{h.parallelism}")
def test_the_same_answer_as_argon2_cffi(hasher):
    for stored in PASSWORDS:
        password_hash = hasher.hash(stored)
        for typed in PASSWORDS:
            expected = argon2_cffi_says(hasher, password_hash, typed)
            assert verify_on_one_thread(password_hash, typed) is expected == (typed == stored)


def test_the_projects_parameters():
    """argon2-cffi's defaults (4 lanes, 64 MiB, 3 passes), as every stored hash has them."""
    password_hash = _strong.hash("correct horse battery staple")
    assert "$m=65536,t=3,p=4$" in password_hash
    assert verify_on_one_thread(password_hash, "correct horse battery staple") is True
    assert verify_on_one_thread(password_hash, "correct horse battery stapler") is False


@pytest.mark.parametrize(
    "password_hash",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ",  # no hash part
        "$argon2id$v=19$m=65536,t=3,p=4$!!!!$YWJjZGVmZ2hpamtsbW5vcA",  # salt not base64
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$YWJj*ZGVm",  # hash not base64
        "$argon2id$v=19$m=1,t=3,p=4$c2FsdHNhbHQ$YWJjZGVmZ2hpamtsbW5vcA",  # memory below the minimum
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$YWJjZGVmZ2hpamtsbW5vcA",  # salt of 4 bytes
        "$scrypt$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$YWJjZGVmZ2hpamtsbW5vcA",
    ],
)
def test_a_malformed_hash_matches_no_password(password_hash):
    assert verify_on_one_thread(password_hash, "correct horse battery staple") is False


def test_no_hash_matches_no_password():
    assert verify_password(None, "") is False
    assert verify_password("", "correct horse battery staple") is False


def threads_started_in_c_during(check) -> set[str]:
    """The threads that appeared in this process while ``check()`` ran and that Python did not start
    (sampled from another thread: the check runs in C, without the GIL). Threads there before it began,
    such as an earlier check's, still ending, do not count, nor do Python's own (a timer of another test)."""
    before = set(os.listdir("/proc/self/task"))
    done = threading.Event()
    seen: set[str] = set()
    python: set[str] = set()

    def sample():
        while not done.is_set():
            seen.update(os.listdir("/proc/self/task"))
            python.update(str(thread.native_id) for thread in threading.enumerate())

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        check()
    finally:
        done.set()
        sampler.join()
    return seen - before - python


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="threads are counted in /proc")
def test_a_check_runs_on_the_callers_thread_only():
    """argon2-cffi's own ``verify`` starts a thread per lane (four with the project's parameters):
    a sign-in then takes every core of a two-core server. The check here stays on the caller's."""
    password = "correct horse battery staple"
    password_hash = _strong.hash(password)
    assert threads_started_in_c_during(lambda: _strong.verify(password_hash, password))
    assert threads_started_in_c_during(lambda: verify_on_one_thread(password_hash, password)) == set()
