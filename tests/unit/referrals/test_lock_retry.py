"""The one retry-on-lock helper (carenet.db.retry) that sending and moving referrals use."""

from __future__ import annotations

import sqlite3

import psycopg.errors
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from carenet.db.retry import BACKOFF_CAP_SECONDS, backoff_seconds, is_lock_error, run_in_transaction
from carenet.errors import Busy, Conflict, InvalidInput


def wrapped(error_class, orig):
    return error_class("UPDATE referral ...", {}, orig)


SQLITE_LOCKED = wrapped(OperationalError, sqlite3.OperationalError("database is locked"))
SQLITE_BUSY = wrapped(OperationalError, sqlite3.OperationalError("database is busy"))
PG_SERIALIZATION = wrapped(OperationalError, psycopg.errors.SerializationFailure("serialize"))
PG_DEADLOCK = wrapped(OperationalError, psycopg.errors.DeadlockDetected("deadlock detected"))
PG_LOCK_TIMEOUT = wrapped(OperationalError, psycopg.errors.LockNotAvailable("lock timeout"))


@pytest.mark.parametrize(
    "exc", [SQLITE_LOCKED, SQLITE_BUSY, PG_SERIALIZATION, PG_DEADLOCK, PG_LOCK_TIMEOUT]
)
def test_lock_errors_of_both_backends_are_recognised(exc):
    assert is_lock_error(exc)


def test_other_errors_are_not_lock_errors():
    assert not is_lock_error(wrapped(OperationalError, sqlite3.OperationalError("no such table")))
    assert not is_lock_error(wrapped(IntegrityError, sqlite3.IntegrityError("UNIQUE failed")))
    assert not is_lock_error(InvalidInput("bad"))


def test_the_backoff_grows_and_is_bounded():
    waits = [backoff_seconds(n) for n in range(50)]
    assert waits == sorted(waits) and waits[0] > 0
    assert max(waits) == BACKOFF_CAP_SECONDS


class RecordingSession:
    """Stands in for the SQLAlchemy session: counts what the helper asks of it."""

    def __init__(self):
        self.calls: list[str] = []

    def in_transaction(self):
        return False

    def connection(self, execution_options=None):
        assert execution_options == {"carenet_writes": True}  # begins as a writer
        self.calls.append("begin")

    def commit(self):
        self.calls.append("commit")

    def rollback(self):
        self.calls.append("rollback")


def failing(times: int, exc: Exception, result: str = "done"):
    attempts = []

    def work():
        attempts.append(1)
        if len(attempts) <= times:
            raise exc
        return result

    return work, attempts


def test_a_lock_error_rolls_back_and_runs_the_work_again_then_commits():
    session = RecordingSession()
    work, attempts = failing(2, SQLITE_LOCKED)
    assert run_in_transaction(work, session=session) == "done"
    assert len(attempts) == 3
    assert session.calls == ["begin", "rollback"] * 2 + ["begin", "commit"]


def test_too_many_lock_errors_end_in_busy_503_with_retry_after():
    session = RecordingSession()
    work, attempts = failing(99, PG_SERIALIZATION)
    with pytest.raises(Busy, match="busy") as raised:
        run_in_transaction(work, retries=3, conflict="busy", session=session)
    assert len(attempts) == 3 and session.calls == ["begin", "rollback"] * 3
    assert raised.value.status == 503 and raised.value.retry_after_seconds > 0


def test_retries_stop_after_the_lock_wait_even_with_retries_left(monkeypatch):
    from carenet.db import retry

    monkeypatch.setattr(retry, "LOCK_WAIT_SECONDS", 0)
    work, attempts = failing(99, SQLITE_LOCKED)
    with pytest.raises(Busy):
        run_in_transaction(work, retries=50, session=RecordingSession())
    assert len(attempts) == 1


def test_unique_index_races_that_never_stop_end_in_a_conflict():
    lost_race = wrapped(IntegrityError, sqlite3.IntegrityError("UNIQUE constraint failed"))
    work, attempts = failing(99, lost_race)
    with pytest.raises(Conflict) as raised:
        run_in_transaction(work, retries=3, also_retry=lambda exc: True, session=RecordingSession())
    assert len(attempts) == 3 and not isinstance(raised.value, Busy)


def test_a_domain_error_rolls_back_and_is_not_retried():
    session = RecordingSession()
    work, attempts = failing(1, InvalidInput("no"))
    with pytest.raises(InvalidInput):
        run_in_transaction(work, session=session)
    assert len(attempts) == 1 and session.calls == ["begin", "rollback"]


def test_also_retry_names_further_errors_to_run_again():
    session = RecordingSession()
    lost_race = wrapped(IntegrityError, sqlite3.IntegrityError("UNIQUE constraint failed"))
    work, attempts = failing(1, lost_race)
    retry_unique = lambda exc: isinstance(exc, IntegrityError)  # noqa: E731
    assert run_in_transaction(work, also_retry=retry_unique, session=session) == "done"
    assert len(attempts) == 2 and session.calls == ["begin", "rollback", "begin", "commit"]
    work, attempts = failing(1, lost_race)
    with pytest.raises(IntegrityError):
        run_in_transaction(work, session=session)
