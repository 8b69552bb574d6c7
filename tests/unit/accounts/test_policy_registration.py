"""The policy table is complete on first import, whatever was imported before it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import json, sys
from carenet.accounts import policy
print(json.dumps({
    "rules": sorted(map(list, policy.RULES)),
    "modules": sorted(m for m in sys.modules if m.startswith("carenet")),
}))
"""


def _fresh_import() -> dict:
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, env=env, cwd=ROOT
    )
    return json.loads(done.stdout)


def test_importing_only_the_policy_registers_patient_and_referral_rules():
    found = _fresh_import()
    rules = {tuple(key) for key in found["rules"]}
    assert {
        ("create", "patient"),
        ("list", "patient"),
        ("view", "patient"),
        ("edit", "patient"),
        ("send", "referral"),
        ("view", "referral"),
        ("manage", "referral"),
        ("respond", "referral"),
        ("note", "referral"),
        ("view_patient_details", "referral"),
        ("set_capacity", "service"),
    } <= rules
    assert {("view", "directory"), ("edit", "service"), ("list", "audit_event")} <= rules


def test_the_fresh_table_is_the_whole_table_and_imports_no_models():
    import carenet.models  # noqa: F401  (every domain, as the app has it)
    import carenet.referrals.api  # noqa: F401
    from carenet.accounts import policy

    found = _fresh_import()
    assert {tuple(key) for key in found["rules"]} == set(policy.RULES)
    # The policy sits below the models (accounts.models imports policy.ROLES): no cycle.
    assert not [m for m in found["modules"] if m.endswith(".models")]
