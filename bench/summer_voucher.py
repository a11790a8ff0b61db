"""Kesäseteli under load: a burst of youth applications, and the staff queue over many rows.

    .venv/bin/python bench/summer_voucher.py [--db sqlite|postgres] [--scenario all|apply|queue]

1. "apply": `--applicants` (200) young people send their application at the same moment, each
   with its own session cookie and CSRF token, e-mail and personal identity code, through the JSON
   API (`--via api`, 201) or the form (`--via form`, 303). The fixture register knows only ~15
   persons and its file is not configurable, so the app runs with POPULATION_REGISTER=vtj against
   a fake VTJ gateway on loopback (in this process) that knows every generated applicant: each
   application costs the app one register query over HTTP, as in production.
2. "queue": `--applications` (100 000) youth applications are bulk-inserted before uvicorn starts,
   a staff handler logs in through the test identity provider (oidc-provider-mock, in this
   process), and GET /admin (the simplest staff page) and the first page of
   GET /admin/summer-voucher/youth are loaded with wrk (or the asyncio fallback) with that
   session's cookie.

Both print their figures against /api/v1/ping measured in the same run. Rate limits are lifted
(RATE_LIMITS) so they do not shape the numbers. Everything stays on 127.0.0.1 and is time-bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(1, str(BENCH_DIR.parent))

import harness  # noqa: E402  (bench/ is not a package; its directory is put on the path above)
import httpx  # noqa: E402
from sqlmodel import Session, col, func, select  # noqa: E402

from app import crypto  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.summer_voucher.models import (  # noqa: E402
    TARGET_GROUP_AGE,
    TargetGroup,
    YearConfiguration,
    YouthApplication,
    YouthStatus,
)

HELSINKI = ZoneInfo("Europe/Helsinki")
QUEUE_ROUTE = "/admin/summer-voucher/youth"
# The simplest staff page (a template, the session check, no query of its own): what a logged-in
# staff request costs before the queue's own work.
STAFF_HOME_ROUTE = "/admin"
STAFF_SUB = "staff-handler"
POSTCODE = "00100"
# Lifted for the bench: every request comes from 127.0.0.1, which the limit would count as one.
NO_RATE_LIMITS = json.dumps({"youth_apply": [10_000_000, 600], "youth_activate": [10_000_000, 600]})
VTJ_USERNAME = "bench"
VTJ_PASSWORD = "bench-password"  # noqa: S105 - a loopback fake's
_CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_GROUPS = list(TargetGroup)


# --------------------------------------------------------------------------------------------
# Invented persons


@dataclass(frozen=True)
class Applicant:
    hetu: str
    first_name: str
    last_name: str
    email: str
    target_group: TargetGroup


def this_year() -> int:
    return datetime.now(HELSINKI).year


def make_hetu(born: date, individual: int) -> str:
    """A valid personal identity code (individual number 002-899: not a temporary one)."""
    if not 2 <= individual <= 899:
        raise ValueError("individual number out of range")
    digits = f"{born:%d%m}{born.year % 100:02d}"
    century = {1900: "-", 2000: "A"}[born.year // 100 * 100]
    number = f"{individual:03d}"
    return f"{digits}{century}{number}{_CHECK_CHARS[int(digits + number) % 31]}"


def applicant(i: int, year: int) -> Applicant:
    """The i-th invented youth: distinct code and e-mail, of the age their target group means."""
    group = _GROUPS[i % len(_GROUPS)]
    j = i // len(_GROUPS)
    born = date(year - TARGET_GROUP_AGE[group], 1 + (j // 28) % 12, 1 + j % 28)
    individual = 2 + j // (28 * 12)
    return Applicant(
        hetu=make_hetu(born, individual),
        first_name="Testi",
        last_name=f"Nuori{i}",
        email=f"youth{i}@bench.example",
        target_group=group,
    )


# --------------------------------------------------------------------------------------------
# Seeding (runs in `prepare`, after the migrations, before uvicorn)


def bench_settings(database_url: str) -> Settings:
    """What the app process will read: the same environment (and .env) plus the database."""
    return Settings(_env_file=BENCH_DIR.parent / ".env", database_url=database_url)


def seed_year(session: Session, year: int) -> None:
    session.add(
        YearConfiguration(
            year=year,
            voucher_value=Decimal("350.00"),
            min_work_hours=60,
            min_work_compensation=Decimal("400.00"),
            target_groups=[g.value for g in TargetGroup],
            opens_on=date(year, 1, 1),
            closes_on=date(year, 12, 31),
        )
    )


def seed_open_year(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            seed_year(session, this_year())
            session.commit()
    finally:
        engine.dispose()


# Mostly what a handler acts on, with some already decided rows for the counts.
_SEED_STATUSES = [
    YouthStatus.submitted,
    YouthStatus.awaiting_manual_processing,
    YouthStatus.awaiting_manual_processing,
    YouthStatus.additional_information_provided,
    YouthStatus.additional_information_requested,
    YouthStatus.rejected,
]


def seed_applications(database_url: str, count: int, *, batch: int = 5_000) -> None:
    """An open year and `count` youth applications, inserted with executemany in batches. The
    encrypted columns are encrypted on the way in by app.crypto with the app's own keys."""
    settings = bench_settings(database_url)
    keyring = crypto.configure(settings)
    year = this_year()
    engine = make_engine(database_url)
    table = YouthApplication.__table__  # type: ignore[attr-defined]
    started = time.perf_counter()
    first_created = datetime.now(UTC) - timedelta(days=60)
    try:
        with Session(engine) as session:
            seed_year(session, year)
            session.commit()
        with engine.begin() as conn:
            for start in range(0, count, batch):
                rows: list[dict[str, Any]] = []
                for i in range(start, min(start + batch, count)):
                    person = applicant(i, year)
                    rows.append(
                        {
                            "created_at": first_created + timedelta(seconds=i * 30),
                            "year": year,
                            "language": "fi",
                            "first_name": person.first_name,
                            "last_name": person.last_name,
                            "hetu": person.hetu,
                            "hetu_index": keyring.blind_index(person.hetu, purpose="hetu"),
                            "email": person.email,
                            "email_index": keyring.blind_index(person.email, purpose="email"),
                            "phone": "+358401234567",
                            "postcode": POSTCODE,
                            "school": "Bench School",
                            "is_unlisted_school": False,
                            "target_group": person.target_group.value,
                            "status": _SEED_STATUSES[i % len(_SEED_STATUSES)].value,
                            "needs_additional_info": i % 3 == 0,
                            "register_restricted": False,
                        }
                    )
                conn.execute(table.insert(), rows)
        # A steady-state database has statistics (and, on PostgreSQL, a visibility map after
        # autovacuum); a fresh bulk load has neither, so give them before measuring.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(
                "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
            )
        with Session(engine) as session:
            stored = session.exec(select(func.count()).select_from(YouthApplication)).one()
    finally:
        engine.dispose()
    harness.log(f"seeded {stored:,} youth applications in {time.perf_counter() - started:.1f} s")


# --------------------------------------------------------------------------------------------
# Loopback fakes: the VTJ gateway and the identity provider


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the app's 2 x 40 threads may all ask at once


@contextlib.contextmanager
def fake_vtj(applicants: list[Applicant]) -> Iterator[str]:
    """A fake City integration gateway that knows `applicants` (Helsinki residents at POSTCODE);
    yields the base URL for VTJ_BASE_URL. The answer's shape comes from tests/fakes/vtj.py."""
    from tests.fakes.vtj import NOT_FOUND_BODY, FakeAddress, found_message, henkilo

    persons = {
        a.hetu: henkilo(
            a.hetu,
            a.first_name,
            a.last_name,
            address=FakeAddress("Benchkatu 1", POSTCODE, "Helsinki"),
        )
        for a in applicants
    }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the app's httpx client reuses connections

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            try:
                hetu = json.loads(self.rfile.read(length))["Henkilotunnus"]
            except (ValueError, KeyError, TypeError):
                self._answer(400, {"message": "bad query"})
                return
            person = persons.get(hetu)
            self._answer(200, found_message(hetu, person) if person else NOT_FOUND_BODY)

        def _answer(self, status: int, data: Any) -> None:
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = _QuietServer((harness.HOST, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://{harness.HOST}:{server.server_port}/api"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def identity_provider() -> Iterator[str]:
    """oidc-provider-mock with the demo users on a free loopback port, as tests/conftest.py runs
    it; yields the issuer URL."""
    import werkzeug.serving
    from oidc_provider_mock import User
    from oidc_provider_mock import app as oidc_provider_app

    from app.demo import DEMO_USERS

    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # http on loopback; uvicorn inherits it
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per provider request
    users = [
        User(sub=str(u["sub"]), claims={k: v for k, v in u.items() if k != "sub"})
        for u in DEMO_USERS
    ]
    provider = oidc_provider_app(require_nonce=True, user_claims=users)
    server = werkzeug.serving.make_server(harness.HOST, 0, provider, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://{harness.HOST}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def staff_cookie(base_url: str, sub: str = STAFF_SUB) -> str:
    """Log `sub` in through the provider (start, pick the user, come back); the Cookie header."""
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        start = client.get("/admin/login", follow_redirects=False)
        if start.status_code not in (302, 303):
            raise harness.BenchError(f"GET /admin/login answered {start.status_code}")
        with httpx.Client(timeout=10.0) as browser:
            answer = browser.post(
                start.headers["location"], data={"sub": sub}, follow_redirects=False
            )
        if answer.status_code != 302:
            raise harness.BenchError(f"the identity provider answered {answer.status_code}")
        callback = httpx.URL(answer.headers["location"])
        done = client.get(f"{callback.path}?{callback.query.decode()}", follow_redirects=False)
        if done.status_code not in (302, 303):
            raise harness.BenchError(f"the login callback answered {done.status_code}")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


# --------------------------------------------------------------------------------------------
# Scenario 1: a burst of applications


@dataclass(frozen=True)
class BurstResult:
    sent: int
    acknowledged: int
    statuses: dict[int, int]
    errors: dict[str, int]
    wall_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def _payload(person: Applicant, via: str, token: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "hetu": person.hetu,
        "postcode": POSTCODE,
        "school": "Bench School",
        "target_group": person.target_group.value,
        "phone": "040 123 4567",
        "email": person.email,
    }
    if via == "form":
        return {**data, "terms_accepted": "on", "csrf_token": token}
    return {**data, "terms_accepted": True}


async def _burst(
    base_url: str, applicants: list[Applicant], *, via: str, request_timeout: float
) -> BurstResult:
    route = (
        "/summer-voucher/apply" if via == "form" else "/api/v1/summer-voucher/youth-applications"
    )
    ok_status = 303 if via == "form" else 201
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=base_url, timeout=request_timeout, limits=limits)
        for _ in applicants
    ]
    try:
        # Every youth first fetches a token (which sets the session cookie), a few at a time.
        gate = asyncio.Semaphore(32)

        async def token_for(client: httpx.AsyncClient) -> str:
            async with gate:
                response = await client.get("/api/v1/csrf")
                response.raise_for_status()
                return str(response.json()["csrf_token"])

        tokens = await asyncio.gather(*(token_for(c) for c in clients))
        go = asyncio.Event()
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        errors: dict[str, int] = {}
        samples: dict[int, str] = {}

        async def send(client: httpx.AsyncClient, person: Applicant, token: str) -> None:
            await go.wait()
            started = time.perf_counter()
            try:
                if via == "form":
                    response = await client.post(
                        route, data=_payload(person, via, token), follow_redirects=False
                    )
                else:
                    response = await client.post(
                        route,
                        json=_payload(person, via, token),
                        headers={"X-CSRF-Token": token},
                    )
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code != ok_status and response.status_code not in samples:
                samples[response.status_code] = response.text[:300]

        tasks = [
            asyncio.create_task(send(c, p, t))
            for c, p, t in zip(clients, applicants, tokens, strict=True)
        ]
        await asyncio.sleep(0.2)  # every task is parked on the event
        started = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - started
        for status, text in sorted(samples.items()):
            harness.log(f"a {status} answer: {' '.join(text.split())}")
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    latencies.sort()
    return BurstResult(
        sent=len(applicants),
        acknowledged=statuses.get(ok_status, 0),
        statuses=statuses,
        errors=errors,
        wall_s=wall,
        p50_ms=harness.percentile(latencies, 50),
        p95_ms=harness.percentile(latencies, 95),
        p99_ms=harness.percentile(latencies, 99),
    )


def count_applications(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return session.exec(
                select(func.count())
                .select_from(YouthApplication)
                .where(col(YouthApplication.year) == this_year())
            ).one()
    finally:
        engine.dispose()


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.1f}"


def run_apply(args: argparse.Namespace, generator: harness.LoadGenerator) -> str:
    year = this_year()
    applicants = [applicant(i, year) for i in range(args.applicants)]
    with fake_vtj(applicants) as vtj_url:
        env = {
            "RATE_LIMITS": NO_RATE_LIMITS,
            "POPULATION_REGISTER": "vtj",
            "VTJ_BASE_URL": vtj_url,
            "VTJ_USERNAME": VTJ_USERNAME,
            "VTJ_PASSWORD": VTJ_PASSWORD,
        }
        with harness.app_under_test(
            args.db, workers=args.workers, prepare=seed_open_year, extra_env=env
        ) as app:
            ping = harness.measure_routes(
                generator,
                app.base_url,
                [harness.PING_ROUTE],
                duration=args.duration,
                connections=args.connections,
                warmup=args.warmup,
            )[0]
            harness.log(f"{args.applicants} applications at once via {args.via}")
            burst = asyncio.run(
                asyncio.wait_for(
                    _burst(app.base_url, applicants, via=args.via, request_timeout=args.timeout),
                    timeout=args.timeout + 60,
                )
            )
            stored = count_applications(app.database_url)
    within = "yes" if burst.wall_s <= 10 and burst.acknowledged == burst.sent else "NO"
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(burst.statuses.items())) or "-"
    errors = ", ".join(f"{k}: {n}" for k, n in sorted(burst.errors.items())) or "0"
    lines = [
        f"== {args.applicants} simultaneous youth applications "
        f"(db={args.db}, workers={args.workers}, via={args.via}, register=fake VTJ gateway)",
        f"acknowledged      {burst.acknowledged}/{burst.sent}"
        f" ({'303' if args.via == 'form' else '201'}); statuses {statuses}",
        f"client errors     {errors}",
        f"stored rows       {stored}",
        f"wall time         {burst.wall_s:.2f} s (all acknowledged within 10 s: {within})",
        f"latency ms        p50 {_ms(burst.p50_ms)}  p95 {_ms(burst.p95_ms)}"
        f"  p99 {_ms(burst.p99_ms)}",
        f"ping ({ping.tool}, {args.connections} conn) p50 {_ms(ping.p50_ms)}"
        f"  p95 {_ms(ping.p95_ms)}  p99 {_ms(ping.p99_ms)} ms, {ping.rps:,.0f} req/s",
        f"p95 vs ping p95   {_ms(harness.ratio(burst.p95_ms, ping.p95_ms))}x",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Scenario 2: the staff queue


def run_queue(args: argparse.Namespace, generator: harness.LoadGenerator) -> str:
    def prepare(database_url: str) -> None:
        seed_applications(database_url, args.applications)

    with identity_provider() as issuer:
        env = {
            "RATE_LIMITS": NO_RATE_LIMITS,
            "EMPLOYER_OIDC_ISSUER": issuer,
            "STAFF_OIDC_ISSUER": issuer,
        }
        with harness.app_under_test(
            args.db, workers=args.workers, prepare=prepare, extra_env=env
        ) as app:
            cookie = staff_cookie(app.base_url)
            common: dict[str, Any] = {
                "duration": args.duration,
                "connections": args.connections,
                "warmup": args.warmup,
            }
            results = harness.measure_routes(
                generator, app.base_url, [harness.PING_ROUTE], **common
            ) + harness.measure_routes(
                generator,
                app.base_url,
                [STAFF_HOME_ROUTE, QUEUE_ROUTE],
                headers={"Cookie": cookie},
                **common,
            )
    queue = results[-1]
    verdict = "yes" if queue.p95_ms < 50 and queue.non_2xx == 0 and queue.errors == 0 else "NO"
    return "\n".join(
        [
            f"== staff youth queue over {args.applications:,} applications "
            f"(db={args.db}, workers={args.workers}, tool={generator.name}, "
            f"connections={args.connections}, {args.duration} s, first page of 100, "
            f"logged in as {STAFF_SUB})",
            harness.format_table(results),
            f"queue p95 < 50 ms: {verdict}",
        ]
    )


# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/summer_voucher.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--scenario", choices=("all", "apply", "queue"), default="all")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (default: 2)")
    parser.add_argument("--applicants", type=int, default=200, help="scenario 1 (default: 200)")
    parser.add_argument("--via", choices=("api", "form"), default="api", help="scenario 1 route")
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="per application request, s (default: 30)"
    )
    parser.add_argument(
        "--applications", type=int, default=100_000, help="scenario 2 rows (default: 100000)"
    )
    parser.add_argument("--duration", type=int, default=5, help="load per route, s (default: 5)")
    parser.add_argument("--warmup", type=int, default=1, help="discarded warm-up, s (default: 1)")
    parser.add_argument("--connections", type=int, default=16, help="default: 16")
    parser.add_argument("--tool", choices=("auto", "wrk", "asyncio"), default="auto")
    return parser.parse_args(argv)


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds: uvicorn stopped, database dropped, fakes closed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    machine = harness.describe_machine()
    harness.log(machine)
    scenarios: list[Callable[[argparse.Namespace, harness.LoadGenerator], str]] = []
    if args.scenario in ("all", "apply"):
        scenarios.append(run_apply)
    if args.scenario in ("all", "queue"):
        scenarios.append(run_queue)
    try:
        generator = harness.choose_load_generator(args.tool)
        print(f"{machine} before the run")
        for scenario in scenarios:
            print(scenario(args, generator), flush=True)
    except harness.StartupError as exc:
        print(f"bench: the app did not start: {exc}", file=sys.stderr)
        return 2
    except (harness.BenchError, TimeoutError) as exc:
        print(f"bench: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
