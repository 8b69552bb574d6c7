"""Conflicting moves and repeated sends at the same moment, each thread on its own connection."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select

from carenet.accounts.models import User
from carenet.errors import Conflict
from carenet.extensions import db
from carenet.referrals import workflow
from carenet.referrals.models import Referral, ReferralEvent
from carenet.referrals.service import ReferralRequest, send_referral

THREADS = 20


def _run_together(app, work, count=THREADS):
    """Run ``work(i)`` in ``count`` threads released at once; each in its own app context."""
    barrier = threading.Barrier(count)
    outcomes: list[object] = [None] * count

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                outcomes[i] = work(i)
            except Exception as exc:  # collected and asserted on below
                outcomes[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_twenty_conflicting_moves_exactly_one_wins_the_rest_get_409(app_ctx, net, send):
    referral_id = send().id
    before = db.session.scalar(select(func.count()).select_from(ReferralEvent))
    moves = [
        ("staff_a", "accepted", {}),
        ("admin_a", "rejected", {"reason": "no-capacity"}),
        ("coordinator", "cancelled", {"reason": "duplicate"}),
    ]
    db.session.remove()

    def work(i: int) -> str:
        name, to, fields = moves[i % len(moves)]
        actor = db.session.get(User, net.users[name])
        moved = workflow.transition(actor, referral_id, to, 1, **fields)
        return moved.status

    outcomes = _run_together(app_ctx, work)
    kinds = Counter(type(o).__name__ if isinstance(o, Exception) else "won" for o in outcomes)
    assert kinds == {"won": 1, "Conflict": THREADS - 1}, outcomes
    assert all(isinstance(o, Conflict | str) for o in outcomes)
    winner = next(o for o in outcomes if isinstance(o, str))
    final = db.session.get(Referral, referral_id)
    assert (final.status, final.version) == (winner, 2)
    after = db.session.scalar(select(func.count()).select_from(ReferralEvent))
    assert after == before + 1


def test_concurrent_retries_with_one_idempotency_key_make_one_referral(app_ctx, net):
    request = ReferralRequest(
        patient_id=net.patient, service_id=net.services["open"], category="food-insecurity"
    )
    db.session.remove()

    def work(i: int) -> str:
        actor = db.session.get(User, net.users["coordinator"])
        return send_referral(actor, request, idempotency_key="retry-me-1").referral.id

    outcomes = _run_together(app_ctx, work, count=10)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert len(set(outcomes)) == 1
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 1
