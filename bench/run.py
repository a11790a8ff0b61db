"""`make bench`: throughput and latency of a few routes, as ratios against /api/v1/ping.

Starts the app with uvicorn on a fresh SQLite or PostgreSQL database, loads each route with wrk
(or the asyncio fallback) on 127.0.0.1, prints a table and stops everything it started.

    .venv/bin/python bench/run.py [--db sqlite|postgres] [--duration 5] [--routes / /healthz]
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # bench/ is not a package; its directory is put on the path above


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, not {value}")
    return value


def _routes(values: Sequence[str]) -> list[str]:
    routes = [route for value in values for route in value.split(",") if route]
    for route in routes:
        if not route.startswith("/"):
            raise SystemExit(f"bench: a route starts with '/': {route!r}")
    return routes


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description=(
            "Benchmark routes of the app against /api/v1/ping in the same run. "
            "Compare ratios, not absolute numbers: the machine is shared."
        ),
    )
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="database: a temporary SQLite file, or a new bench_<random> "
        "database on BENCH_DATABASE_URL's server (default: %(default)s)",
    )
    parser.add_argument(
        "--duration",
        type=_positive_int,
        default=5,
        metavar="SECONDS",
        help="measuring time per route (default: %(default)s)",
    )
    parser.add_argument(
        "--warmup",
        type=_non_negative_int,
        default=1,
        metavar="SECONDS",
        help="discarded warm-up per route; 0 skips it (default: %(default)s)",
    )
    parser.add_argument(
        "--connections",
        type=_positive_int,
        default=16,
        help="concurrent keep-alive connections (default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=2,
        help="uvicorn worker processes (default: %(default)s)",
    )
    parser.add_argument(
        "--routes",
        nargs="+",
        default=list(harness.DEFAULT_ROUTES),
        metavar="ROUTE",
        help="routes to measure, space or comma separated; "
        f"{harness.PING_ROUTE} is always measured first (default: %(default)s)",
    )
    parser.add_argument(
        "--tool",
        choices=("auto", "wrk", "asyncio"),
        default="auto",
        help="load generator; auto is wrk when installed (default: %(default)s)",
    )
    parser.add_argument(
        "--retry-for",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="retry a failed migration or start-up for this long, once a "
        "minute (default: %(default)s)",
    )
    parser.add_argument(
        "--json", type=Path, metavar="FILE", help="also write the results as JSON to FILE"
    )
    return parser.parse_args(argv)


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds the finally blocks: uvicorn stopped, database dropped


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    routes = harness.with_baseline(_routes(args.routes))
    machine = harness.describe_machine()  # before the load: a busy shared machine shows here
    harness.log(machine)
    try:
        generator = harness.choose_load_generator(args.tool)
        with harness.app_under_test(args.db, workers=args.workers, retry_for=args.retry_for) as app:
            results = harness.measure_routes(
                generator,
                app.base_url,
                routes,
                duration=args.duration,
                connections=args.connections,
                warmup=args.warmup,
            )
    except harness.StartupError as exc:
        print(f"bench: the app did not start: {exc}", file=sys.stderr)
        return 2
    except harness.BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:  # uvicorn is stopped and the database dropped on the way out
        print("bench: interrupted", file=sys.stderr)
        return 130

    print(
        f"db={args.db} workers={args.workers} tool={generator.name} "
        f"connections={args.connections} duration={args.duration}s per route; "
        f"{machine} before the run"
    )
    print(harness.format_table(results))
    if args.json is not None:
        args.json.write_text(json.dumps(harness.to_json(results), indent=2, allow_nan=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
