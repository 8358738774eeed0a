"""The rate limits' ``memory://`` store under threads (app/extensions.py): gunicorn's threads count
sign-ins in it at once under `make run`."""

from __future__ import annotations

import sys
import threading
import time

from limits.storage import MemoryStorage, storage_from_string

from app.extensions import ThreadSafeMemoryStorage


def with_a_slow_timer_assignment(store_class):
    """``store_class`` with a pause right after its expiry timer is replaced: another thread runs
    between the replacement and the timer's start, the moment two hits at once used to collide."""

    class Probe(store_class):
        @property
        def timer(self):
            return self.__dict__["timer"]

        @timer.setter
        def timer(self, value):
            self.__dict__["timer"] = value
            time.sleep(0.001)

    return Probe("memory://")


def errors_of_hits_at_once(store, threads: int = 4, seconds: float = 1.0) -> list[Exception]:
    errors: list[Exception] = []
    until = time.monotonic() + seconds

    def hit(key: str) -> None:
        while time.monotonic() < until and not errors:
            try:
                store.incr(key, 60)
            except RuntimeError as error:
                errors.append(error)

    workers = [threading.Thread(target=hit, args=(f"sign-in/{n}",)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


def test_memory_uris_get_the_thread_safe_store():
    assert type(storage_from_string("memory://")) is ThreadSafeMemoryStorage


def test_hits_at_once_never_start_the_same_timer_twice():
    assert errors_of_hits_at_once(with_a_slow_timer_assignment(ThreadSafeMemoryStorage)) == []


def test_limits_own_store_still_needs_the_fix(monkeypatch):
    """When this fails, a release of limits has the fix (its pull request #352): drop
    ThreadSafeMemoryStorage and this file. The race has a second outcome: both ``start()`` calls pass
    and the timer's second thread fails as it begins (« exception ignored in thread »); it is kept here
    rather than reported by pytest against whichever test runs next."""
    ignored: list = []
    monkeypatch.setattr(sys, "unraisablehook", ignored.append)
    errors = errors_of_hits_at_once(with_a_slow_timer_assignment(MemoryStorage))
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.join()
    time.sleep(0.05)  # a timer started twice: its second thread may still be starting
    assert errors and "threads can only be started once" in str(errors[0])
