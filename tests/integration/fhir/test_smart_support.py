"""Helpers for the SMART and subscription tests (no tests here): client keys, signed
assertions, a registered client, a token, a local rest-hook receiver."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class Keys:
    """A client's key pair: the private key signs, ``jwks`` is what gets registered."""

    alg: str
    private: Any
    kid: str
    jwks: dict[str, Any]


def new_keys(alg: str = "RS384") -> Keys:
    kid = uuid.uuid4().hex[:12]
    if alg == "RS384":
        private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    else:
        private = ec.generate_private_key(ec.SECP384R1())
        public = json.loads(ECAlgorithm.to_jwk(private.public_key()))
    public.update(kid=kid, alg=alg, use="sig")
    return Keys(alg, private, kid, {"keys": [public]})


def assertion(keys: Keys, client_id: str, aud: str, **claims: Any) -> str:
    now = int(time.time())
    body: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "exp": now + 240,
        "iat": now,
        "jti": uuid.uuid4().hex,
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, keys.private, algorithm=keys.alg, headers={"kid": keys.kid})


def token_form(signed: str, scope: str = "system/Subscription.crds") -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
        "scope": scope,
    }


def register(runner: Any, tmp: Path, keys: Keys, organization: str, scopes: str) -> str:
    """``carenet fhir-clients create`` as an admin runs it; returns the printed client_id."""
    path = tmp / f"{keys.kid}.jwks.json"
    path.write_text(json.dumps(keys.jwks))
    result = runner.invoke(
        args=[
            "fhir-clients",
            "create",
            "--name",
            f"EHR {keys.kid}",
            "--organization",
            organization,
            "--jwks",
            str(path),
            "--scopes",
            scopes,
        ]
    )
    assert result.exit_code == 0, result.output
    client_id = result.output.strip().splitlines()[-1]
    assert client_id
    return client_id


@dataclass
class Receiver:
    """A rest-hook endpoint on 127.0.0.1: keeps every POST (headers and JSON body)."""

    server: ThreadingHTTPServer
    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.received

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_receiver() -> Receiver:
    box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            box[0].received.append(
                {"headers": dict(self.headers), "body": json.loads(body), "path": self.path}
            )
            self.send_response(box[0].status)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(server)
    box.append(receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver
