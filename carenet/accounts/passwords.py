"""Password hashing (argon2id) and the password rules.

Parameters follow RFC 9106's second recommended option (t=3, m=64 MiB, p=4).
The check refuses short passwords, passwords built on a common one ("Password123!",
"qwertyuiop12"), so breached-list favourites are not accepted, and the product's
name with little else or the public demo password ("carenetcarenet",
"carenet-demo-2026").
"""

from __future__ import annotations

import re
import secrets
import threading
from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256
TIME_COST = 3
MEMORY_COST_KIB = 64 * 1024
PARALLELISM = 4

_hasher = PasswordHasher(
    time_cost=TIME_COST,
    memory_cost=MEMORY_COST_KIB,
    parallelism=PARALLELISM,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)

# The product's own name and the public demo password (docs/security.md "Demo users"):
# the first words an attacker tries against this site. Compared case-insensitively,
# with common letter-for-digit swaps undone ("C4r3n3t" is "carenet").
PRODUCT_NAMES = ("carenet",)
BLOCKED = frozenset({"carenet-demo-2026", "carenetdemo2026", "carenet-demo", "carenetdemo"})
_LEET = str.maketrans({"4": "a", "@": "a", "3": "e", "0": "o", "1": "i", "!": "i", "$": "s",
                       "5": "s", "7": "t", "+": "t"})  # fmt: skip
_PRODUCT_WORDS = frozenset({"demo", "admin", "login", "user", "test"})
_PRODUCT_REST_MIN = 8  # the name plus fewer letters/digits than this is "the name"

_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiopasdfghjklzxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn",
)


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (with its own random salt)."""
    return _hasher.hash(password)


class _Counter:
    """How many argon2 verifications this process has run (read by tests: every sign-in
    answer, whatever the account's state, does exactly one)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self) -> None:
        with self._lock:
            self.value += 1


verifications = _Counter()


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; never raises for a bad hash."""
    verifications.add()
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def dummy_verify() -> None:
    """Spend the time of one verification so unknown accounts answer as slowly as known ones."""
    verify_password(dummy_hash(), "not the password")


@cache
def dummy_hash() -> str:
    """A hash with today's parameters that no password matches in practice: what a sign-in
    for an unknown account is verified against, so it costs what any other one does."""
    return hash_password(secrets.token_urlsafe(32))


@cache
def common_passwords() -> frozenset[str]:
    text = files("carenet.accounts").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def password_problems(password: str, email: str | None = None) -> list[str]:
    """Why ``password`` is not acceptable (an empty list when it is)."""
    if len(password) < MIN_LENGTH:
        return [f"Use at least {MIN_LENGTH} characters."]
    if len(password) > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    lowered = password.lower()
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", lowered)  # "Password123!" -> "password"
    problems = []
    if _about_the_product(lowered):
        problems.append("Do not use the name of this service or the demo password.")
    elif lowered in common_passwords() or core in common_passwords():
        problems.append("This password is on the lists of common, breached passwords.")
    elif len(set(lowered)) <= 3:
        problems.append("Use more than three different characters.")
    elif _is_sequence(lowered):
        problems.append("Do not use a keyboard or alphabet sequence.")
    local = (email or "").split("@")[0].lower()
    if len(local) >= 4 and local in lowered:
        problems.append("Do not use your e-mail address in the password.")
    return problems


def _about_the_product(lowered: str) -> bool:
    """The demo password, or the product's name with little else ("carenetcarenet",
    "Carenet2026!", "c4r3n3t-c4r3n3t")."""
    squashed = re.sub(r"[\W_]", "", lowered)
    if lowered in BLOCKED or squashed in BLOCKED:
        return True
    for text in (lowered, lowered.translate(_LEET)):
        rest = text
        for name in PRODUCT_NAMES:
            rest = rest.replace(name, "")
        if rest == text:
            continue  # the name is not in it
        rest = re.sub(r"[\W_]", "", rest)
        if len(rest) < _PRODUCT_REST_MIN or len(set(rest)) <= 3 or rest.isdigit():
            return True
        letters = re.sub(r"\d", "", rest)  # "carenet-demo-2027": the name, "demo", a year
        if len(letters) < 4 or letters in common_passwords() or letters in _PRODUCT_WORDS:
            return True
    return False


def _is_sequence(text: str) -> bool:
    stripped = re.sub(r"[\W_]", "", text)
    if len(stripped) < 6:
        return False
    for sequence in _SEQUENCES:
        doubled = sequence + sequence
        if stripped in doubled or stripped in doubled[::-1]:
            return True
    return False
