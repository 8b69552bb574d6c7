"""``carenet bench load``: many simulated users at once against gunicorn; figures, no asserts.

Prepares a database (SpatiaLite: a fresh file in a temporary directory;
PostGIS: a new database on a throwaway cluster or on the server of
``CARENET_DATABASE_URL``; or ``--database-url``, used as it is) with
``db upgrade`` and ``seed --demo-history``, creates one API token per simulated
user for the demo accounts (``carenet.accounts.tokens``), starts gunicorn on a
free loopback port with production settings (docs/operations.md), then runs N
users in threads for a fixed time, each with its own HTTP session:

- coordinators search services near a patient's ZIP, open a patient (recording
  consent when there is none), send a referral through ``/api/v1/referrals``
  and now and then list their outbound referrals;
- CBO staff and admins list their inbox, open a requested referral, accept it,
  add a note, start and complete it (another user taking it first is a 409);
- program leads fetch reports through ``/api/v1/reports/...``.

A share of the users (``--form-share``) sign in through the real ``/login``
form (cookie and CSRF token) instead of a token, and sign out and in again every
``RESIGN_SECONDS``: concurrent sign-ins hash passwords on the workers.

Prints, per route template, the count, p50/p95/p99 latency and the counts of
5xx and other non-2xx answers (3xx are the login redirects and count as fine),
the first tracebacks in gunicorn's error log, and the total 5xx count last. The
command exits 1 when any request got a 5xx or no answer at all.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import secrets
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from carenet.bench import server

Echo = Callable[[str], None]

ROLE_CYCLE = (  # user i gets ROLE_CYCLE[i % 10]: half coordinators, 3 in 10 CBO, 2 in 10 leads
    "coordinator", "cbo_staff", "program_lead", "coordinator", "cbo_admin",
    "coordinator", "cbo_staff", "coordinator", "program_lead", "coordinator",
)  # fmt: skip
EMAILS = {
    "coordinator": "coordinator@demo.carenet.test",
    "cbo_staff": "cbo.staff@demo.carenet.test",
    "cbo_admin": "cbo.admin@demo.carenet.test",
    "program_lead": "lead@demo.carenet.test",
}
REPORT_VIEWS = (  # (report, group_by) as a program lead opens them
    ("unmet-needs", "domain"), ("unmet-needs", "zip"), ("unmet-needs-trend", "domain"),
    ("referral-outcomes", "cbo"), ("referral-outcomes", "period"), ("reasons", "domain"),
    ("time-to-close", "domain"), ("time-to-close", "care_org"), ("service-gaps", "domain"),
)  # fmt: skip
RESIGN_SECONDS = 15  # a form user signs out and in again after this long
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
CLIENT_TIMEOUT_S = 120


# --- what the users need to know -----------------------------------------------


@dataclass
class World:
    """Ids the simulated users work with, read from the seeded database."""

    patients: list[tuple[str, str]]  # (id, ZIP) of the demo care organization's patients
    services: list[tuple[str, str, str]]  # (id, search category slug, need domain) of the demo CBO
    tokens: dict[int, str] = field(default_factory=dict)  # user index → API token
    token_ids: list[tuple[str, str]] = field(default_factory=list)  # (user email, token id)


def prepare(url: str, users: int, form_share: float, echo: Echo) -> World:
    """``db upgrade`` and ``seed --demo-history`` (both idempotent), then the users' tokens."""
    from flask_migrate import upgrade

    from carenet import create_app
    from carenet.accounts.seed import seed_demo_users
    from carenet.demo.history import seed_demo_history
    from carenet.directory.seed import seed_directory
    from carenet.extensions import db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only", "ENV_NAME": "development"}
    )
    with app.app_context():
        started = time.perf_counter()
        upgrade(revision="heads")
        seed_directory(echo=lambda _: None)
        seed_demo_users()
        seed_demo_history(echo=lambda _: None)
        echo(f"database migrated and seeded in {time.perf_counter() - started:.1f} s")
        world = _read_world()
        _create_tokens(world, users, form_share)
        db.session.remove()
        db.engine.dispose()
    echo(f"{len(world.patients)} patients, {len(world.services)} services to refer to, "
         f"{len(world.tokens)} API tokens")  # fmt: skip
    return world


def _read_world() -> World:
    from sqlalchemy import select

    from carenet.accounts import service as accounts
    from carenet.directory.models import Service
    from carenet.directory.taxonomy import category_for
    from carenet.extensions import db
    from carenet.referrals.models import Patient

    def organization_of(role: str) -> str:
        user = accounts.find_user(EMAILS[role])
        assert user is not None, f"no demo user {EMAILS[role]}"
        return next(m.organization_id for m in user.memberships if m.role == role)

    care, cbo = organization_of("coordinator"), organization_of("cbo_staff")
    patients = db.session.execute(
        select(Patient.id, Patient.postal_code)
        .where(Patient.organization_id == care, Patient.postal_code.is_not(None))
        .order_by(Patient.id)
    ).all()
    services = []
    for service in db.session.scalars(
        select(Service).where(
            Service.organization_id == cbo,
            Service.status == "active",
            Service.capacity_status != "no-capacity",
        )  # fmt: skip
    ):
        for slug in service.category_slugs:
            if (category := category_for(slug)) is not None:
                services.append((service.id, slug, category.sdoh_code))
                break
    if not patients or not services:
        raise RuntimeError("the demo history has no patient or the demo CBO no service")
    return World([(p, z[:5]) for p, z in patients], sorted(services))


def _create_tokens(world: World, users: int, form_share: float) -> None:
    from carenet.accounts import service as accounts
    from carenet.accounts import tokens

    for index in range(users):
        if signs_in_by_form(index, form_share):
            continue
        email = EMAILS[ROLE_CYCLE[index % len(ROLE_CYCLE)]]
        owner = accounts.find_user(email)
        assert owner is not None
        row, text = tokens.create_api_token(owner, f"bench load user {index}")
        world.tokens[index] = text
        world.token_ids.append((email, row.id))


def revoke_tokens(url: str, world: World) -> None:
    """Revoke this run's tokens (a database given by ``--database-url`` outlives the run)."""
    from carenet import create_app
    from carenet.accounts import service as accounts
    from carenet.accounts import tokens
    from carenet.extensions import db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only", "ENV_NAME": "development"}
    )
    with app.app_context():
        for email, token_id in world.token_ids:
            owner = accounts.find_user(email)
            if owner is not None:
                tokens.revoke_api_token(owner, token_id)
        db.session.remove()
        db.engine.dispose()


def signs_in_by_form(index: int, share: float) -> bool:
    """Whether user ``index`` uses the login form: spread evenly, ``share`` of them."""
    return int((index + 1) * share) > int(index * share)


# --- one user's HTTP session ---------------------------------------------------


@dataclass
class Sample:
    route: str  # method and route template, e.g. "POST /api/v1/referrals/{id}/transitions"
    status: int  # 0: no answer (connection refused or reset, timeout)
    seconds: float


class Session:
    """One simulated user's HTTP client: a bearer token, or the session cookie + CSRF token.

    A new connection per request, as the sync workers close each one."""

    def __init__(self, port: int, token: str | None, samples: list[Sample]) -> None:
        self.port = port
        self.token = token
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None
        self.samples = samples

    def call(self, route: str, path: str, body: Any = None,
             form: dict[str, str] | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:  # fmt: skip
        """Send one request, record it under ``route``; (status, body), status 0 on no answer."""
        method = route.split(" ", 1)[0]
        sent = self._headers(method, headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        elif form is not None:
            payload = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=CLIENT_TIMEOUT_S)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=payload, headers=sent)
            response = connection.getresponse()
            data = response.read()
            status = response.status
            self._keep_cookies(response.msg.get_all("Set-Cookie") or [])
        except (OSError, http.client.HTTPException):
            status, data = 0, b""
        finally:
            connection.close()
        self.samples.append(Sample(route, status, time.perf_counter() - started))
        return status, data

    def json(self, route: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        status, data = self.call(route, path, **kwargs)
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, None

    def _headers(self, method: str, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Connection": "close", "Accept": "application/json", **(extra or {})}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if self.csrf and method != "GET":
                headers["X-CSRFToken"] = self.csrf
        return headers

    def _keep_cookies(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                expired = morsel["max-age"] == "0" or "1970" in morsel["expires"]
                if expired or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def sign_in(self, email: str, password: str) -> bool:
        """The login form as a browser fills it in; then the CSRF token of the signed-in page."""
        self.cookies.clear()
        _, page = self.call("GET /login", "/login", headers={"Accept": "text/html"})
        found = CSRF_FIELD.search(page.decode("utf-8", "replace"))
        form = {"email": email, "password": password, "next": "",
                "csrf_token": found.group(1) if found else ""}  # fmt: skip
        status, _ = self.call("POST /login", "/login", form=form, headers={"Accept": "text/html"})
        if status != 302:
            return False
        _, page = self.call("GET /account", "/account", headers={"Accept": "text/html"})
        found = CSRF_FIELD.search(page.decode("utf-8", "replace"))
        self.csrf = found.group(1) if found else None
        return self.csrf is not None

    def sign_out(self) -> None:
        self.call("POST /logout", "/logout", form={"csrf_token": self.csrf or ""},
                  headers={"Accept": "text/html"})  # fmt: skip
        self.cookies.clear()
        self.csrf = None


# --- what each role does ---------------------------------------------------------


class User:
    """One simulated user: rounds of its role's daily work until the deadline."""

    def __init__(self, index: int, role: str, session: Session, world: World, seed: int,
                 deadline: float, form: bool) -> None:  # fmt: skip
        self.index, self.role, self.session, self.world = index, role, session, world
        self.rng = random.Random(seed * 1000 + index)
        self.deadline = deadline
        self.form = form
        self.consented: set[str] = set()
        self.sign_ins = 0

    def run(self) -> None:
        signed_in_at: float | None = None
        while time.monotonic() < self.deadline:
            if self.form and (signed_in_at or 0) + RESIGN_SECONDS < time.monotonic():
                if signed_in_at is not None:
                    self.session.sign_out()
                    signed_in_at = None
                if not self._sign_in():
                    continue
                signed_in_at = time.monotonic()
            {"coordinator": self.coordinator, "program_lead": self.lead}.get(self.role, self.cbo)()

    def _sign_in(self) -> bool:
        from carenet.accounts.seed import DEMO_PASSWORD

        self.sign_ins += 1
        if self.session.sign_in(EMAILS[self.role], DEMO_PASSWORD):
            return True
        time.sleep(0.5)  # refused (throttled?) or failed: try again in a moment
        return False

    def coordinator(self) -> None:
        s, rng = self.session, self.rng
        patient, postcode = rng.choice(self.world.patients)
        service, slug, domain = rng.choice(self.world.services)
        query = urlencode({"near": postcode, "category": slug, "radius_mi": 10})
        s.call("GET /api/v1/services/search", f"/api/v1/services/search?{query}")
        status, shown = s.json("GET /api/v1/patients/{id}", f"/api/v1/patients/{patient}")
        if status != 200 or not self._alive():
            return
        if not shown.get("consent_valid") and patient not in self.consented:
            s.call("POST /api/v1/patients/{id}/consents", f"/api/v1/patients/{patient}/consents",
                   body={"method": "verbal"})  # fmt: skip
            self.consented.add(patient)
        body = {"patient_id": patient, "service_id": service, "category": domain,
                "note": f"bench load referral from user {self.index}"}  # fmt: skip
        status, sent = s.json("POST /api/v1/referrals", "/api/v1/referrals", body=body,
                              headers={"Idempotency-Key": str(uuid.uuid4())})  # fmt: skip
        if status in (200, 201) and rng.random() < 0.3 and self._alive():
            s.call("GET /api/v1/referrals/{id}", f"/api/v1/referrals/{sent['id']}")
        if rng.random() < 0.2 and self._alive():
            s.call("GET /api/v1/referrals?box=outbound&status=…",
                   "/api/v1/referrals?box=outbound&status=requested&status=accepted")  # fmt: skip

    def cbo(self) -> None:
        s, rng = self.session, self.rng
        if rng.random() < 0.2:
            s.call("GET /api/v1/referrals?box=inbound", "/api/v1/referrals?box=inbound")
        status, inbox = s.json("GET /api/v1/referrals?box=inbound&status=…",
                               "/api/v1/referrals?box=inbound&status=requested")  # fmt: skip
        waiting = (inbox or {}).get("contents") or [] if status == 200 else []
        if not waiting:
            time.sleep(0.2)  # nothing to do yet
            return
        referral = rng.choice(waiting[:20])["id"]
        self._work_on(f"/api/v1/referrals/{referral}")

    def _work_on(self, url: str) -> None:
        """Open, accept, note, start, complete: stop at the first refusal (409: taken)."""
        s = self.session
        status, shown = s.json("GET /api/v1/referrals/{id}", url)
        if status != 200:
            return
        version = shown["version"]
        today = datetime.now(UTC).date().isoformat()
        steps: list[tuple[str, str, dict[str, Any]]] = [
            ("POST /api/v1/referrals/{id}/transitions", "/transitions", {"to": "accepted"}),
            ("POST /api/v1/referrals/{id}/notes", "/notes", {"body": "Called, visit booked."}),
            ("POST /api/v1/referrals/{id}/transitions", "/transitions", {"to": "in-progress"}),
            ("POST /api/v1/referrals/{id}/transitions", "/transitions",
             {"to": "completed", "outcome": "Delivered.", "delivered_on": today}),
        ]  # fmt: skip
        for route, tail, body in steps:
            if not self._alive():
                return
            moving = tail == "/transitions"
            sent = {**body, "version": version} if moving else body
            status, answer = s.json(route, url + tail, body=sent)
            if status not in (200, 201):
                return
            if moving:
                version = answer["version"]

    def lead(self) -> None:
        name, group = self.rng.choice(REPORT_VIEWS)
        suffix = ".csv" if self.rng.random() < 0.1 else ""
        self.session.call(f"GET /api/v1/reports/{{name}}{suffix}",
                          f"/api/v1/reports/{name}{suffix}?group_by={group}")  # fmt: skip

    def _alive(self) -> bool:
        return time.monotonic() < self.deadline


# --- gunicorn ----------------------------------------------------------------------


@contextmanager
def gunicorn(url: str, workers: int, threads: int, log: Path) -> Iterator[int]:
    """gunicorn as docs/operations.md runs it in production, on a free loopback port.

    Plain HTTP on loopback stands for the TLS proxy, hence ``CARENET_SECURE_COOKIES=0``."""
    env = {"CARENET_DATABASE_URL": url, "CARENET_ENV": "production",
           "CARENET_SECRET_KEY": secrets.token_hex(32), "CARENET_SECURE_COOKIES": "0",
           "CARENET_INSTANCE_DIR": str(log.parent)}  # fmt: skip
    with server.gunicorn(env, workers, threads, log) as port:
        yield port


CHAINED = ("During handling", "The above exception")
CARENET_FRAME = re.compile(r'\s+File "(?:.*?/)?(carenet/[^"]+)", line (\d+), in (\S+)')


def tracebacks(log_text: str) -> list[str]:
    """One line per traceback (a chain counts once, by its last exception) in the error log:
    the exception and the innermost carenet frame it passed through."""
    found = []
    where, inside = "", False
    lines = [line for line in log_text.splitlines() if line.strip()]
    for number, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last):"):
            inside = True
        elif not inside:
            continue
        elif frame := CARENET_FRAME.match(line):
            where = f"{frame.group(1)}:{frame.group(2)} in {frame.group(3)}"
        elif not line.startswith((" ", "\t")) and not line.startswith(CHAINED):
            following = lines[number + 1] if number + 1 < len(lines) else ""
            if not following.startswith(CHAINED):  # else the chain goes on
                found.append(line[:200] + (f"  (at {where})" if where else ""))
                where, inside = "", False
    return found


# --- the run -------------------------------------------------------------------------


def drive(port: int, world: World, users: int, seconds: float, form_share: float,
          seed: int) -> dict[str, Any]:  # fmt: skip
    """Run ``users`` simulated users for ``seconds``; the samples and counts."""
    samples: list[list[Sample]] = [[] for _ in range(users)]
    deadline = time.monotonic() + seconds
    crowd = []
    for index in range(users):
        form = signs_in_by_form(index, form_share)
        session = Session(port, None if form else world.tokens[index], samples[index])
        role = ROLE_CYCLE[index % len(ROLE_CYCLE)]
        crowd.append(User(index, role, session, world, seed, deadline, form))
    started = time.perf_counter()
    threads = [threading.Thread(target=user.run, name=f"user-{user.index}") for user in crowd]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    roles = Counter("cbo" if u.role.startswith("cbo") else u.role for u in crowd)
    return {
        "samples": [sample for own in samples for sample in own],
        "elapsed_s": elapsed,
        "roles": dict(roles),
        "form_users": sum(u.form for u in crowd),
        "form_sign_ins": sum(u.sign_ins for u in crowd),
    }


def summarize(samples: list[Sample]) -> dict[str, dict[str, Any]]:
    """Per route: count, p50/p95/p99 in ms, 5xx, other non-2xx (3xx excluded), no answer."""
    from carenet.bench.search_bench import percentiles

    by_route: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_route[sample.route].append(sample)
    routes = {}
    for route in sorted(by_route, key=lambda r: (r.split(" ", 1)[1], r)):
        own = by_route[route]
        figures: dict[str, Any] = percentiles([s.seconds for s in own])
        figures["5xx"] = sum(s.status >= 500 for s in own)
        figures["non_2xx"] = sum(400 <= s.status < 500 for s in own)
        figures["no_answer"] = sum(s.status == 0 for s in own)
        figures["statuses"] = dict(Counter(s.status for s in own if not 200 <= s.status < 400))
        routes[route] = figures
    return routes


def run(backend: str, users: int, seconds: float, workers: int, threads: int,
        form_share: float = 0.25, seed: int = 1, database_url: str | None = None,
        echo: Echo = print) -> dict[str, Any]:  # fmt: skip
    """Prepare the database, start gunicorn, run the users; returns the figures."""
    from carenet.bench.search_bench import bench_database

    database = nullcontext(database_url) if database_url else bench_database(backend, echo)
    with database as url, tempfile.TemporaryDirectory(prefix="carenet-load-") as scratch:
        world = prepare(url, users, form_share, echo)
        log = Path(scratch) / "gunicorn-error.log"
        try:
            with gunicorn(url, workers, threads, log) as port:
                echo(f"gunicorn on 127.0.0.1:{port}: {workers} workers × {threads} threads; "
                     f"{users} users for {seconds:g} s")  # fmt: skip
                driven = drive(port, world, users, seconds, form_share, seed)
        finally:
            log_text = log.read_text("utf-8", "replace") if log.exists() else ""
            if database_url:
                revoke_tokens(url, world)
    samples = driven.pop("samples")
    return {
        "backend": backend, "users": users, "seconds": seconds, "workers": workers,
        "threads": threads, **driven, "requests": len(samples),
        "requests_per_s": len(samples) / driven["elapsed_s"],
        "routes": summarize(samples),
        "tracebacks": tracebacks(log_text),
        "worker_timeouts": log_text.count("WORKER TIMEOUT"),
        "commit": _commit(),
    }  # fmt: skip


def _commit() -> str:
    try:
        git = ["git", "rev-parse", "--short", "HEAD"]
        found = subprocess.run(git, capture_output=True, text=True, check=False,
                               cwd=Path(__file__).parent)  # fmt: skip
        return found.stdout.strip()
    except OSError:
        return ""


def report(figures: dict[str, Any], shown_tracebacks: int = 5) -> str:
    """The figures as text; the total 5xx count is the last line."""
    roles = figures["roles"]
    lines = [
        f"backend {figures['backend']}, commit {figures['commit'] or '?'}, gunicorn "
        f"{figures['workers']} workers × {figures['threads']} threads; {figures['users']} users "
        f"({roles.get('coordinator', 0)} coordinators, {roles.get('cbo', 0)} CBO staff/admins, "
        f"{roles.get('program_lead', 0)} program leads; {figures['form_users']} of them signed "
        f"in through the login form, {figures['form_sign_ins']} times) for "
        f"{figures['elapsed_s']:.1f} s",
        f"{figures['requests']:,} requests, {figures['requests_per_s']:.1f} requests/s",
        "",
        f"{'route':58} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'5xx':>5} "
        f"{'4xx':>5} {'none':>5}",
    ]
    for route, f in figures["routes"].items():
        lines.append(f"{route:58} {f['n']:6d} {f['p50']:8.1f} {f['p95']:8.1f} {f['p99']:8.1f} "
                     f"{f['5xx']:5d} {f['non_2xx']:5d} {f['no_answer']:5d}")  # fmt: skip
    odd = Counter[int]()
    for f in figures["routes"].values():
        odd.update({int(k): v for k, v in f["statuses"].items()})
    if odd:
        lines.append("not 2xx/3xx by status: " + ", ".join(
            f"{status or 'no answer'} × {n}" for status, n in sorted(odd.items())))  # fmt: skip
    found = figures["tracebacks"]
    if found or figures["worker_timeouts"]:
        lines.append(f"gunicorn error log: {len(found)} tracebacks, "
                     f"{figures['worker_timeouts']} worker timeouts; the first ones:")  # fmt: skip
        for line, n in Counter(found).most_common(shown_tracebacks):
            lines.append(f"  {n} × {line}")
    lines.append(f"no answer: {total_no_answer(figures)}")
    lines.append(f"5xx: {total_5xx(figures)}")
    return "\n".join(lines)


def total_5xx(figures: dict[str, Any]) -> int:
    return sum(f["5xx"] for f in figures["routes"].values())


def total_no_answer(figures: dict[str, Any]) -> int:
    return sum(f["no_answer"] for f in figures["routes"].values())


def register(group: Any) -> None:
    """Add ``carenet bench load`` to the ``bench`` click group."""
    import click

    from carenet.bench import options

    @group.command("load")
    @options.backend
    @options.count("--users", 50, "Simulated users of every role.")
    @click.option("--seconds", type=click.FloatRange(1), default=60, show_default=True)
    @options.workers
    @click.option("--threads", type=click.IntRange(1), default=1, show_default=True,
                  help="Threads per gunicorn worker (over 1: the gthread worker).")  # fmt: skip
    @click.option("--form-share", type=click.FloatRange(0, 1), default=0.25, show_default=True,
                  help="Share of users who sign in by the login form, not a token.")  # fmt: skip
    @options.seed(1)
    @click.option("--database-url", default=None,
                  help="Use this database as it is (migrated and seeded if needed) instead of"
                  " a fresh one; the run's API tokens are revoked afterwards.")  # fmt: skip
    @options.as_json
    def bench_load(backend: str, users: int, seconds: float, workers: int | None, threads: int,
                   form_share: float, seed: int, database_url: str | None,
                   as_json: bool) -> None:  # fmt: skip
        """N simulated users of every role against gunicorn for a fixed time; exits 1 on a 5xx."""
        figures = run(backend, users, seconds, workers or options.default_workers(backend),
                      threads, form_share, seed, database_url, click.echo)  # fmt: skip
        options.echo_json(figures, as_json)
        click.echo(report(figures))
        if total_5xx(figures) or total_no_answer(figures):
            raise SystemExit(1)
