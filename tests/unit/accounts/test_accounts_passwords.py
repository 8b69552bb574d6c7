"""Password hashing parameters and the password rules."""

from __future__ import annotations

from argon2 import extract_parameters
from argon2.low_level import Type

from carenet.accounts import passwords, tokens


def test_hash_is_argon2id_with_rfc9106_parameters():
    hashed = passwords.hash_password("a long enough passphrase")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    params = extract_parameters(hashed)
    assert params.type is Type.ID
    assert (params.memory_cost, params.time_cost, params.parallelism) == (65536, 3, 4)
    assert params.salt_len == 16 and params.hash_len == 32


def test_each_hash_has_its_own_salt_and_verifies():
    first = passwords.hash_password("a long enough passphrase")
    second = passwords.hash_password("a long enough passphrase")
    assert first != second
    assert passwords.verify_password(first, "a long enough passphrase")
    assert not passwords.verify_password(first, "a long enough passphrasE")
    assert not passwords.verify_password("not a hash", "anything")


def test_weak_hashes_are_flagged_for_rehash():
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("x" * 12)
    assert passwords.needs_rehash(weak)


def test_password_rules():
    ok = "violet staple orbit"
    assert passwords.password_problems(ok) == []
    assert passwords.password_problems("short") == ["Use at least 12 characters."]
    for breached in ("password1234", "Password123456!", "qwertyuiop12", "123456789012"):
        assert passwords.password_problems(breached), breached
    assert passwords.password_problems("aaaaaaaaaaaaaa") == [
        "Use more than three different characters."
    ]
    assert passwords.password_problems("abcdefghijklm")  # a sequence
    assert passwords.password_problems("jane.doe.rocks.2026", "jane.doe@example.org") == [
        "Do not use your e-mail address in the password."
    ]


def test_tokens_are_random_and_hashed_with_sha256():
    first, second = tokens.new_token(), tokens.new_token()
    assert first != second and len(first) >= 43
    assert len(tokens.token_hash(first)) == 64
    assert tokens.token_prefix(first) == first[:8]
