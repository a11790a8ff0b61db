"""Reusable benchmark pieces: a fresh database, the app under uvicorn, load generators, reports.

bench/run.py is the command line (`make bench`). Scenario scripts import this module the same way:

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import harness

    with harness.app_under_test("postgres", workers=2, prepare=seed) as app:
        results = harness.measure_routes(harness.choose_load_generator(), app.base_url, routes)
    print(harness.format_table(results))

Everything listens on and talks to 127.0.0.1 only, and every step is bounded in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import urlsplit

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
VENV_BIN = REPO_ROOT / ".venv" / "bin"
WRK_SCRIPT = BENCH_DIR / "percentiles.lua"

HOST = "127.0.0.1"
PING_ROUTE = "/api/v1/ping"
DEFAULT_ROUTES: tuple[str, ...] = (PING_ROUTE, "/healthz", "/")
DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

DbKind = Literal["sqlite", "postgres"]
ToolName = Literal["auto", "wrk", "asyncio"]


class BenchError(RuntimeError):
    """A benchmark could not run; the message says why."""


class DatabaseSetupError(BenchError):
    """The benchmark database could not be created (is PostgreSQL running?)."""


class StartupError(BenchError):
    """Migrations or the app did not start: worth retrying while the app code is being edited."""


class LoadError(BenchError):
    """The load generator itself failed."""


def log(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the report."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# --------------------------------------------------------------------------------------------
# Databases


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    """A fresh SQLite file in a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


def _admin_url(admin_url: str | None) -> URL:
    return make_url(admin_url or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_PG_ADMIN_URL)


def _libpq_conninfo(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def postgres_database(admin_url: str | None = None) -> Iterator[str]:
    """A fresh database `bench_<random>` on the server of BENCH_DATABASE_URL, dropped afterwards.

    `admin_url` (default: env BENCH_DATABASE_URL, else DEFAULT_PG_ADMIN_URL) is a SQLAlchemy URL of
    an existing database whose user may CREATE DATABASE.
    """
    admin = _admin_url(admin_url)
    name = f"bench_{secrets.token_hex(4)}"
    conninfo = _libpq_conninfo(admin)
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        where = admin.render_as_string(hide_password=True)
        raise DatabaseSetupError(f"cannot create database {name} via {where}: {exc}") from exc
    try:
        url = admin.set(drivername="postgresql+psycopg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        try:
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        except psycopg.Error as exc:  # never hide the original error; say what to clean up
            log(f"could not drop database {name}: {exc}; drop it by hand")


def fresh_database(
    db: DbKind, *, pg_admin_url: str | None = None
) -> contextlib.AbstractContextManager[str]:
    """A context manager that yields the SQLAlchemy URL of a new, empty database."""
    if db == "sqlite":
        return sqlite_database()
    if db == "postgres":
        return postgres_database(pg_admin_url)
    raise ValueError(f"unknown database kind: {db!r}")


def app_environment(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of alembic and uvicorn: quiet development settings on `database_url`."""
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url, APP_ENV="development", LOG_LEVEL="WARNING")
    env.update(extra)
    return env


def migrate(database_url: str, *, timeout: float = 300.0) -> None:
    """`alembic upgrade head` on `database_url`; StartupError with alembic's output on failure."""
    try:
        proc = subprocess.run(
            [str(VENV_BIN / "alembic"), "upgrade", "head"],
            cwd=REPO_ROOT,
            env=app_environment(database_url),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise StartupError(f"alembic upgrade head took over {timeout:.0f} s") from exc
    if proc.returncode != 0:
        raise StartupError(
            f"alembic upgrade head failed (exit {proc.returncode}):\n"
            + _tail(proc.stdout + proc.stderr)
        )


# --------------------------------------------------------------------------------------------
# The app under uvicorn


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunningApp:
    base_url: str
    database_url: str
    pid: int
    log_path: Path


def _stop_process_group(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the process group that `proc` leads (uvicorn and its workers), then SIGKILL."""
    pgid = proc.pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        proc.wait(timeout=timeout)
    # Workers outlive the supervisor only if it died abruptly; give them a moment, then kill.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def wait_ready(
    base_url: str, proc: subprocess.Popen[bytes], log_path: Path, *, timeout: float = 30.0
) -> None:
    """Wait until GET /healthz answers 200; StartupError if uvicorn exits or time runs out."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    with httpx.Client(base_url=base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise StartupError(
                    f"uvicorn exited with {proc.returncode} during start-up:\n"
                    + _tail(log_path.read_text(errors="replace"))
                )
            try:
                response = client.get("/healthz")
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            else:
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            time.sleep(0.2)
    raise StartupError(
        f"/healthz not 200 within {timeout:.0f} s (last: {last}):\n"
        + _tail(log_path.read_text(errors="replace"))
    )


@contextlib.contextmanager
def uvicorn_app(
    database_url: str,
    *,
    workers: int = 2,
    port: int | None = None,
    ready_timeout: float = 30.0,
    extra_env: dict[str, str] | None = None,
) -> Iterator[RunningApp]:
    """Run `uvicorn app.main:app` on 127.0.0.1 until the block ends; always stopped afterwards."""
    port = port or free_port()
    base_url = f"http://{HOST}:{port}"
    command = [
        str(VENV_BIN / "uvicorn"),
        "app.main:app",
        "--host", HOST,
        "--port", str(port),
        "--workers", str(workers),
        "--no-access-log",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-uvicorn-") as tmp:
        log_path = Path(tmp) / "uvicorn.log"
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=app_environment(database_url, **(extra_env or {})),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the workers are stopped with it
            )
        try:
            wait_ready(base_url, proc, log_path, timeout=ready_timeout)
            yield RunningApp(base_url, database_url, proc.pid, log_path)
        finally:
            _stop_process_group(proc)


@contextlib.contextmanager
def app_under_test(
    db: DbKind,
    *,
    workers: int = 2,
    prepare: Callable[[str], None] | None = None,
    retry_for: float = 0.0,
    retry_interval: float = 60.0,
    pg_admin_url: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[RunningApp]:
    """A fresh database, migrated, optionally prepared, and the app serving it.

    `prepare(database_url)` runs after the migrations and before uvicorn starts (seed data there).
    A StartupError is retried with a new database every `retry_interval` s for `retry_for` s, for
    when the app is mid-edit; the database is dropped and uvicorn stopped however the block ends.
    `extra_env` is added to uvicorn's environment (e.g. RATE_LIMITS, STAFF_OIDC_ISSUER).
    """
    deadline = time.monotonic() + retry_for
    attempt = 1
    while True:
        with contextlib.ExitStack() as stack:
            try:
                database_url = stack.enter_context(fresh_database(db, pg_admin_url=pg_admin_url))
                log(f"migrating a fresh {db} database")
                migrate(database_url)
                if prepare is not None:
                    prepare(database_url)
                log(f"starting uvicorn with {workers} worker(s)")
                app = stack.enter_context(
                    uvicorn_app(database_url, workers=workers, extra_env=extra_env)
                )
            except StartupError as exc:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise
                first_line = str(exc).splitlines()[0]
                log(f"attempt {attempt} failed: {first_line}")
                log(f"retrying in {min(retry_interval, remaining):.0f} s")
            else:
                yield app
                return
        time.sleep(min(retry_interval, max(remaining, 0.0)))
        attempt += 1


# --------------------------------------------------------------------------------------------
# Load generators


@dataclass(frozen=True)
class LoadResult:
    """One route measured for a while. Latencies in milliseconds; NaN when unknown."""

    route: str
    tool: str
    requests: int  # completed responses, whatever their status
    duration_s: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    non_2xx: int  # responses with status >= 400 (like wrk, which counts 3xx as success)
    errors: int  # connect, read and write errors and timeouts
    status: int | None = None  # the status of one probe request before the load


class LoadGenerator(Protocol):
    name: str

    def run(
        self,
        base_url: str,
        route: str,
        *,
        duration: int,
        connections: int,
        headers: Mapping[str, str] | None = None,
    ) -> LoadResult:
        """Load `route` with `connections` concurrent keep-alive connections for `duration` s,
        sending `headers` (e.g. a session Cookie) with every request."""
        ...


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE_LINE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+(\d+(?:\.\d+)?)(us|ms|s|m|h)\s*$", re.M)
_REQUESTS_LINE = re.compile(r"^\s*(\d+) requests in (\d+(?:\.\d+)?)(us|ms|s|m|h)", re.M)
_RPS_LINE = re.compile(r"^Requests/sec:\s+(\d+(?:\.\d+)?)", re.M)
_NON_2XX_LINE = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS_LINE = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
)
_STATS_LINE = re.compile(r"^bench-stats (.*)$", re.M)


def parse_wrk_output(output: str, *, route: str) -> LoadResult:
    """Read `wrk --latency` output, plus the `bench-stats` line of percentiles.lua when present.

    The exact figures of the Lua line win; without it p95 is NaN (wrk's table has no p95).
    """
    percentiles = {
        float(p): float(value) * _UNITS_MS[unit]
        for p, value, unit in _PERCENTILE_LINE.findall(output)
    }
    requests_match = _REQUESTS_LINE.search(output)
    rps_match = _RPS_LINE.search(output)
    if requests_match is None or rps_match is None:
        raise LoadError("unexpected wrk output:\n" + _tail(output))
    requests = int(requests_match.group(1))
    duration_s = float(requests_match.group(2)) * _UNITS_MS[requests_match.group(3)] / 1000
    rps = float(rps_match.group(1))
    non_2xx_match = _NON_2XX_LINE.search(output)
    non_2xx = int(non_2xx_match.group(1)) if non_2xx_match else 0
    errors_match = _SOCKET_ERRORS_LINE.search(output)
    errors = sum(int(n) for n in errors_match.groups()) if errors_match else 0
    p50 = percentiles.get(50.0, math.nan)
    p95 = percentiles.get(95.0, math.nan)
    p99 = percentiles.get(99.0, math.nan)

    stats_match = _STATS_LINE.search(output)
    if stats_match is not None:
        stats = {
            key: int(float(value))
            for key, _, value in (item.partition("=") for item in stats_match.group(1).split())
        }
        requests = stats["requests"]
        duration_s = stats["duration_us"] / 1e6
        rps = requests / duration_s if duration_s > 0 else 0.0
        p50, p95, p99 = (stats[f"p{p}_us"] / 1000 for p in (50, 95, 99))
        non_2xx = stats["status_errors"]
        errors = sum(
            stats[key] for key in ("connect_errors", "read_errors", "write_errors", "timeouts")
        )
    if requests == 0:
        p50 = p95 = p99 = math.nan
    return LoadResult(
        route=route,
        tool="wrk",
        requests=requests,
        duration_s=duration_s,
        rps=rps,
        p50_ms=p50,
        p95_ms=p95,
        p99_ms=p99,
        non_2xx=non_2xx,
        errors=errors,
    )


class Wrk:
    """wrk with 2 threads, --latency and bench/percentiles.lua (for p95)."""

    name = "wrk"

    def __init__(self, executable: str, *, threads: int = 2, timeout_s: int = 10) -> None:
        self.executable = executable
        self.threads = threads
        self.timeout_s = timeout_s

    def run(
        self,
        base_url: str,
        route: str,
        *,
        duration: int,
        connections: int,
        headers: Mapping[str, str] | None = None,
    ) -> LoadResult:
        command = [
            self.executable,
            f"--threads={min(self.threads, connections)}",
            f"--connections={connections}",
            f"--duration={duration}s",
            f"--timeout={self.timeout_s}s",
            "--latency",
            f"--script={WRK_SCRIPT}",
            *(f"--header={name}: {value}" for name, value in (headers or {}).items()),
            base_url + route,
        ]
        try:
            proc = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=duration + self.timeout_s + 30,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise LoadError(f"wrk did not finish: {' '.join(command)}") from exc
        if proc.returncode != 0:
            raise LoadError(f"wrk failed (exit {proc.returncode}):\n{_tail(proc.stderr)}")
        return parse_wrk_output(proc.stdout, route=route)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of ascending `sorted_values`; NaN when empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response, body discarded: (status, whether the connection stays open)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers: dict[str, str] = {}
    for header in header_lines:
        name, _, value = header.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip().lower()
    keep_alive = headers.get("connection") != "close"
    if "chunked" in headers.get("transfer-encoding", ""):
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, if any
                    pass
                break
            await reader.readexactly(size + 2)
    elif "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif status >= 200 and status not in (204, 304):
        await reader.read()  # no length: the body ends with the connection
        keep_alive = False
    return status, keep_alive


class AsyncioLoad:
    """The fallback without wrk: one asyncio task per keep-alive connection, plain HTTP/1.1 GETs.

    It runs in this Python process, so it takes CPU from the app on a small machine and tops out
    at a few thousand requests per second. Compare only runs made with the same tool.
    """

    name = "asyncio"

    def __init__(self, *, timeout_s: float = 10.0) -> None:
        self.timeout_s = timeout_s

    def run(
        self,
        base_url: str,
        route: str,
        *,
        duration: int,
        connections: int,
        headers: Mapping[str, str] | None = None,
    ) -> LoadResult:
        return asyncio.run(
            self._run(base_url, route, duration=duration, connections=connections, headers=headers)
        )

    async def _run(
        self,
        base_url: str,
        route: str,
        *,
        duration: int,
        connections: int,
        headers: Mapping[str, str] | None = None,
    ) -> LoadResult:
        parts = urlsplit(base_url)
        host, port = parts.hostname or HOST, parts.port or 80
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        request = (
            f"GET {route} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: bench\r\n{extra}\r\n"
        ).encode()
        latencies: list[float] = []
        counts = {"non_2xx": 0, "errors": 0}
        start = time.perf_counter()
        deadline = start + duration

        async def worker() -> None:
            writer: asyncio.StreamWriter | None = None
            reader: asyncio.StreamReader | None = None
            while time.perf_counter() < deadline:
                try:
                    async with asyncio.timeout(self.timeout_s):
                        if writer is None or reader is None:
                            reader, writer = await asyncio.open_connection(host, port)
                        sent = time.perf_counter()
                        writer.write(request)
                        status, keep_alive = await read_response(reader)
                except (OSError, TimeoutError, ValueError, IndexError, asyncio.IncompleteReadError):
                    counts["errors"] += 1
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    await asyncio.sleep(0.01)  # do not spin on a refused connection
                    continue
                latencies.append((time.perf_counter() - sent) * 1000)
                if status >= 400:
                    counts["non_2xx"] += 1
                if not keep_alive:
                    writer.close()
                    reader = writer = None
            if writer is not None:
                writer.close()

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - start
        latencies.sort()
        return LoadResult(
            route=route,
            tool=self.name,
            requests=len(latencies),
            duration_s=elapsed,
            rps=len(latencies) / elapsed if elapsed > 0 else 0.0,
            p50_ms=percentile(latencies, 50),
            p95_ms=percentile(latencies, 95),
            p99_ms=percentile(latencies, 99),
            non_2xx=counts["non_2xx"],
            errors=counts["errors"],
        )


def find_wrk() -> str | None:
    """The wrk executable: on PATH, else Debian's /usr/bin/wrk; None when not installed."""
    found = shutil.which("wrk")
    if found:
        return found
    return "/usr/bin/wrk" if os.access("/usr/bin/wrk", os.X_OK) else None


def choose_load_generator(tool: ToolName = "auto") -> LoadGenerator:
    """wrk when installed (or asked for), else the asyncio fallback."""
    if tool == "asyncio":
        return AsyncioLoad()
    executable = find_wrk()
    if executable is not None:
        return Wrk(executable)
    if tool == "wrk":
        raise LoadError("wrk is not installed (apt-get install wrk), or use --tool asyncio")
    return AsyncioLoad()


# --------------------------------------------------------------------------------------------
# Measuring and reporting


def with_baseline(routes: Iterable[str], baseline: str = PING_ROUTE) -> list[str]:
    """`routes` without duplicates, with the baseline first (ratios need it in the same run)."""
    ordered = [baseline]
    for route in routes:
        if route not in ordered:
            ordered.append(route)
    return ordered


def probe(base_url: str, route: str, headers: Mapping[str, str] | None = None) -> int:
    """The status of one GET, redirects not followed."""
    try:
        with httpx.Client(base_url=base_url, timeout=10.0, headers=headers) as client:
            return client.get(route).status_code
    except httpx.HTTPError as exc:
        raise LoadError(f"GET {route} failed: {type(exc).__name__}: {exc}") from exc


def measure_routes(
    generator: LoadGenerator,
    base_url: str,
    routes: Sequence[str],
    *,
    duration: int = 5,
    connections: int = 16,
    warmup: int = 1,
    headers: Mapping[str, str] | None = None,
) -> list[LoadResult]:
    """Probe, warm up (`warmup` s, discarded) and measure (`duration` s) each route in turn,
    sending `headers` with every request."""
    results: list[LoadResult] = []
    for route in routes:
        status = probe(base_url, route, headers)
        if not 200 <= status < 300:
            log(f"{route} answers HTTP {status}: measuring it anyway")
        if warmup > 0:
            generator.run(
                base_url, route, duration=warmup, connections=connections, headers=headers
            )
        log(f"measuring {route} for {duration} s with {generator.name}")
        result = generator.run(
            base_url, route, duration=duration, connections=connections, headers=headers
        )
        results.append(replace(result, status=status))
    return results


def ratio(value: float, baseline: float) -> float:
    if baseline > 0 and math.isfinite(value) and math.isfinite(baseline):
        return value / baseline
    return math.nan


def _number(value: float, digits: int) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def format_table(results: Sequence[LoadResult], baseline: str = PING_ROUTE) -> str:
    """A plain-text table; the ratio columns compare each route with `baseline` of this run."""
    base = next((r for r in results if r.route == baseline), None)
    headers = (
        "route", "status", "req/s", "p50 ms", "p95 ms", "p99 ms",
        "non-2xx", "errors", "req/s vs ping", "p95 vs ping",
    )  # fmt: skip
    rows = [
        (
            r.route,
            "-" if r.status is None else str(r.status),
            _number(r.rps, 0),
            _number(r.p50_ms, 2),
            _number(r.p95_ms, 2),
            _number(r.p99_ms, 2),
            str(r.non_2xx),
            str(r.errors),
            _number(ratio(r.rps, base.rps) if base else math.nan, 2) + "x",
            _number(ratio(r.p95_ms, base.p95_ms) if base else math.nan, 2) + "x",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        return "  ".join((first, *rest)).rstrip()

    return "\n".join(
        [line(headers), line(["-" * width for width in widths]), *(line(row) for row in rows)]
    )


def to_json(results: Sequence[LoadResult]) -> list[dict[str, object]]:
    """The results as JSON-ready dicts; unknown latencies (NaN) become null."""
    return [
        {
            key: None if isinstance(value, float) and math.isnan(value) else value
            for key, value in asdict(result).items()
        }
        for result in results
    ]


def describe_machine() -> str:
    """CPU count and load average: a busy shared machine shows here."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"{os.cpu_count()} CPUs, load average {load}"
