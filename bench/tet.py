"""TET pupils' search over many published postings (issue #6: throughput at least 50 % of
/api/v1/ping, p95 under 25 ms).

    .venv/bin/python bench/tet.py [--db postgres|sqlite] [--postings 20000]

`--postings` (20 000) published postings of `--owners` (2 000) companies and city units are
bulk-inserted before uvicorn starts, with `search_text` and `tags` made by app.tet.service's own
functions (so the indexes hold what the app would write), each with a field of work, one or two
work methods and a few features from the seeded classifications, languages, a Helsinki postcode
and dates around today; 5 % more are drafts and 5 % have ended (neither may be found). Then
wrk (or the asyncio fallback) loads, anonymously, with the rate limit lifted:

- `GET /tet` and `GET /api/v1/tet/postings` with a text and two filters (a field of work and a
  work feature: `--query`, `--field`, `--feature`), the issue's measure;
- the same page without filters (the front of the search) and the detail page of a posting.

With the public page cache (the default; `--no-cache` turns it off) nearly every
request of these routes is answered from memory: the numbers show that path. `--no-cache`
measures the database search and the page itself.

It prints req/s, p50/p95/p99, the ratio of each route's throughput to /api/v1/ping measured in
the same run, how many postings the search found (one that finds nothing would measure the
wrong thing) and whether the two measured routes meet both goals. Everything stays on 127.0.0.1
and is time-bounded; the database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(1, str(BENCH_DIR.parent))

import harness  # noqa: E402  (bench/ is not a package; its directory is put on the path above)
import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from app.db import make_engine  # noqa: E402
from app.tet import service  # noqa: E402
from app.tet.districts import DISTRICTS  # noqa: E402
from app.tet.models import (  # noqa: E402
    ClassificationKind,
    TetClassification,
    TetPosting,
    TetPostingClassification,
)

SEARCH_PAGE = "/tet"
SEARCH_API = "/api/v1/tet/postings"
TARGET_P95_MS = 25.0
TARGET_RATIO = 0.5
NO_RATE_LIMITS = json.dumps({"tet_search": [10_000_000, 60]})

# Per field of work: titles and sentences its postings are written from.
WORK: dict[str, tuple[list[str], list[str]]] = {
    "retail": (
        ["Myyjä", "Kassatyöntekijä", "Myymäläapulainen", "Varastotyöntekijä"],
        [
            "Tutustut asiakaspalveluun ja kassatyöhön.",
            "Hyllytät tuotteita ja autat asiakkaita löytämään etsimänsä.",
            "Opit, miten myymälän tilaukset ja varasto toimivat.",
        ],
    ),
    "health_care": (
        ["Hoiva-avustaja", "Lähihoitajan apulainen", "Vastaanottoavustaja"],
        [
            "Autat ikäihmisiä arjen askareissa ja ulkoilussa.",
            "Tutustut hoitotyöhön ja terveysaseman vastaanottoon.",
            "Pääset seuraamaan hoitajan työpäivää.",
        ],
    ),
    "construction": (
        ["Rakennusapulainen", "Kirvesmiehen apulainen", "Työmaa-avustaja"],
        [
            "Tutustut rakennustyömaan arkeen ja työturvallisuuteen.",
            "Autat rakennusmiehiä purku- ja siivoustöissä.",
            "Opit, miten talo rakennetaan perustuksista kattoon.",
        ],
    ),
    "ict": (
        ["Ohjelmoijan apulainen", "IT-tukihenkilö", "Verkkosivujen tekijä"],
        [
            "Pääset kokeilemaan ohjelmointia ja testausta.",
            "Autat käyttäjiä tietokoneiden ja puhelinten kanssa.",
            "Teet verkkosivuille sisältöä tiimin kanssa.",
        ],
    ),
    "food_service": (
        ["Kokin apulainen", "Tarjoilija", "Kahvila-avustaja"],
        [
            "Valmistat ruokaa ja leivonnaisia keittiössä.",
            "Palvelet asiakkaita kahvilassa ja pidät salin siistinä.",
            "Tutustut ravintolan asiakaspalveluun ja keittiön hygieniaan.",
        ],
    ),
    "education": (
        ["Koulunkäynnin avustaja", "Päiväkodin apulainen", "Kirjaston avustaja"],
        [
            "Autat opettajaa luokassa ja välitunnilla.",
            "Leikit ja ulkoilet lasten kanssa päiväkodissa.",
            "Järjestät kirjoja ja neuvot asiakkaita kirjastossa.",
        ],
    ),
    "logistics": (
        ["Varastoapulainen", "Kuljetusavustaja", "Logistiikka-avustaja"],
        [
            "Keräät tilauksia ja pakkaat lähetyksiä.",
            "Tutustut kuljetusten suunnitteluun ja varastoon.",
        ],
    ),
    "culture": (
        ["Museon opas-avustaja", "Teatterin apulainen", "Tapahtuma-avustaja"],
        [
            "Autat näyttelyn rakentamisessa ja opastat asiakkaita.",
            "Tutustut teatterin lavastukseen ja puvustukseen.",
        ],
    ),
}
CITIES = ["Helsinki"]
STREETS = ["Mannerheimintie", "Hämeentie", "Itäväylä", "Mäkelänkatu", "Vuosaarentie", "Malminkaari"]


@dataclass(frozen=True)
class Seeded:
    postings: int
    drafts: int
    ended: int
    detail_id: int


def seed(database_url: str, *, count: int, owners: int, seed_value: int = 6) -> Seeded:
    rng = random.Random(seed_value)
    engine = make_engine(database_url)
    started = time.perf_counter()
    today = service.today()
    now = datetime.now(UTC).replace(microsecond=0)
    postcodes = [p for d in DISTRICTS for p in d.postcodes]
    table: sa.Table = TetPosting.__table__  # type: ignore[attr-defined]
    links: sa.Table = TetPostingClassification.__table__  # type: ignore[attr-defined]
    drafts = ended = 0
    try:
        with engine.begin() as conn:
            rows = conn.execute(sa.select(TetClassification.__table__)).mappings().all()  # type: ignore[attr-defined]
            by_kind: dict[str, list[TetClassification]] = {}
            by_code: dict[str, TetClassification] = {}
            for row in rows:
                item = TetClassification(**dict(row))
                by_kind.setdefault(item.kind, []).append(item)
                by_code[item.code] = item
            total = int(count * 1.1)
            batch: list[dict[str, Any]] = []
            link_batch: list[dict[str, Any]] = []

            def flush() -> None:
                if batch:
                    conn.execute(sa.insert(table), batch)
                    batch.clear()
                if link_batch:
                    conn.execute(sa.insert(links), link_batch)
                    link_batch.clear()

            for i in range(1, total + 1):
                field_code = rng.choice(list(WORK))
                titles, sentences = WORK[field_code]
                chosen = [by_code[field_code]]
                chosen += rng.sample(by_kind[ClassificationKind.method], rng.randint(1, 2))
                chosen += rng.sample(by_kind[ClassificationKind.feature], rng.randint(1, 4))
                status = "published"
                start = today + timedelta(days=rng.randrange(-60, 240))
                end: date | None = start + timedelta(days=rng.choice((5, 10, 30, 90, 180)))
                if rng.random() < 0.3:
                    end = None
                if i > count:  # the extra tenth: half drafts, half ended
                    if i % 2:
                        status = "draft"
                        drafts += 1
                    else:
                        start = today - timedelta(days=rng.randrange(30, 200))
                        end = today - timedelta(days=rng.randrange(1, 20))
                        ended += 1
                elif end is not None and end < today:
                    end = today + timedelta(days=rng.randrange(0, 30))
                owner = rng.randrange(owners)
                is_city = owner % 10 == 0
                posting = TetPosting(
                    id=i,
                    owner_kind="city_unit" if is_city else "company",
                    owner_id=f"Yksikkö {owner}" if is_city else f"{1000000 + owner}-0",
                    organisation_name="Helsingin kaupunki" if is_city else f"Yritys {owner} Oy",
                    status=status,
                    title=rng.choice(titles),
                    org_unit=f"Toimipiste {owner % 97}",
                    description=" ".join(rng.sample(sentences, k=min(2, len(sentences)))),
                    street=f"{rng.choice(STREETS)} {rng.randrange(1, 120)}",
                    postcode=rng.choice(postcodes),
                    city=rng.choice(CITIES),
                    contact_name="Eija Esimerkki",
                    contact_phone="+358401234567",
                    contact_email=f"tet{owner}@bench.example",
                    start_date=start,
                    end_date=end,
                    spots=rng.randint(1, 4),
                    languages=rng.choice(("fi", "fi", "fi,en", "fi,sv", "sv")),
                    keywords=rng.choice(("", "asiakaspalvelu", "tiimityö, asiakaspalvelu", "kesä")),
                    published_at=now if status == "published" else None,
                    created_at=now,
                    updated_at=now,
                )
                posting.search_text = service.search_text(posting)
                posting.tags = service.tags_of(posting, chosen)
                batch.append(posting.model_dump())
                link_batch.extend({"posting_id": i, "classification_id": c.id} for c in chosen)
                if len(batch) >= 2_000:
                    flush()
            flush()
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql(
                    "SELECT setval(pg_get_serial_sequence('tet_posting', 'id'), "
                    "(SELECT max(id) FROM tet_posting))"
                )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(
                "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
            )
            detail_id = conn.execute(
                sa.select(table.c.id).where(table.c.status == "published").limit(1)
            ).scalar_one()
    finally:
        engine.dispose()
    harness.log(
        f"seeded {count:,} published TET postings (+{drafts:,} drafts, +{ended:,} ended) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return Seeded(postings=count, drafts=drafts, ended=ended, detail_id=int(detail_id))


@dataclass(frozen=True)
class Route:
    label: str
    path: str
    measured: bool  # one of the two routes
    found: int = 0


def _found(route: Route, answer: httpx.Response) -> int:
    if route.path.startswith(SEARCH_API):
        return int(answer.json()["count"])
    match = re.search(r'data-count="(\d+)"', answer.text)
    return int(match.group(1)) if match else -1


def run(args: argparse.Namespace, generator: harness.LoadGenerator) -> str:
    seeded: list[Seeded] = []

    def prepare(database_url: str) -> None:
        seeded.append(seed(database_url, count=args.postings, owners=args.owners))

    query = urlencode({"q": args.query, "field": args.field, "feature": args.feature})
    env = {"RATE_LIMITS": NO_RATE_LIMITS}
    if args.no_cache:
        env["PUBLIC_CACHE_SECONDS"] = "0"
    with harness.app_under_test(
        args.db, workers=args.workers, prepare=prepare, extra_env=env
    ) as app:
        routes = [
            Route("page: text + field + feature", f"{SEARCH_PAGE}?{query}", True),
            Route("API: text + field + feature", f"{SEARCH_API}?{query}", True),
            Route("page: no filters", SEARCH_PAGE, False),
            Route("detail page", f"/tet/postings/{seeded[0].detail_id}", False),
        ]
        probed = []
        with httpx.Client(base_url=app.base_url, timeout=30.0) as client:
            for route in routes:
                answer = client.get(route.path)
                if answer.status_code != 200:
                    raise harness.BenchError(f"GET {route.path} answered {answer.status_code}")
                probed.append(replace(route, found=_found(route, answer)))
        common: dict[str, Any] = {
            "duration": args.duration,
            "connections": args.connections,
            "warmup": args.warmup,
        }
        results = harness.measure_routes(generator, app.base_url, [harness.PING_ROUTE], **common)
        for route in probed:
            results += [
                replace(r, route=route.label)
                for r in harness.measure_routes(generator, app.base_url, [route.path], **common)
            ]
    info = seeded[0]
    by_label = {r.route: r for r in results}
    ping = by_label[harness.PING_ROUTE]
    lines = [
        f"== TET search over {info.postings:,} published postings (+{info.drafts:,} drafts, "
        f"+{info.ended:,} ended) (db={args.db}, workers={args.workers}, tool={generator.name}, "
        f"connections={args.connections}, {args.duration} s per route, pages of 20, "
        f"public page cache {'off' if args.no_cache else 'on'})",
        harness.format_table(results),
        "",
        f"{'route':<30} {'found':>6}  ratio >= {TARGET_RATIO:.0%}  p95 < {TARGET_P95_MS:.0f} ms  path",
    ]
    misses = 0
    for route in probed:
        result = by_label[route.label]
        share = harness.ratio(result.rps, ping.rps)
        clean = result.non_2xx == 0 and result.errors == 0
        fast = math.isfinite(result.p95_ms) and result.p95_ms < TARGET_P95_MS and clean
        enough = share >= TARGET_RATIO and clean
        if route.measured:
            misses += (not fast) + (not enough)
        lines.append(
            f"{route.label:<30} {route.found:>6}  {share:>6.2f} {'yes' if enough else 'NO':>4}"
            f"  {result.p95_ms:>8.1f} {'yes' if fast else 'NO':>4}  {route.path}"
        )
    lines.append(
        "the issue's two routes meet both goals: "
        + ("yes" if misses == 0 else f"NO ({misses} missed)")
    )
    if args.json is not None:
        args.json.write_text(json.dumps(harness.to_json(results), indent=2, allow_nan=False) + "\n")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/tet.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--postings", type=int, default=20_000, help="default: 20000")
    parser.add_argument("--owners", type=int, default=2_000, help="default: 2000")
    parser.add_argument("--query", default="asiakaspalvelu", help="default: asiakaspalvelu")
    parser.add_argument("--field", default="retail", help="a field of work (default: retail)")
    parser.add_argument("--feature", default="customers", help="a feature (default: customers)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (default: 2)")
    parser.add_argument("--duration", type=int, default=5, help="load per route, s (default: 5)")
    parser.add_argument("--warmup", type=int, default=1, help="discarded warm-up, s (default: 1)")
    parser.add_argument("--connections", type=int, default=16, help="default: 16")
    parser.add_argument("--tool", choices=("auto", "wrk", "asyncio"), default="auto")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="turn the public page cache off (PUBLIC_CACHE_SECONDS=0): every request "
        "is searched in the database",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    return parser.parse_args(argv)


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds: uvicorn stopped, database dropped


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    harness.log(harness.describe_machine())
    try:
        generator = harness.choose_load_generator(args.tool)
        report = run(args, generator)
    except harness.StartupError as exc:
        print(f"bench: the app did not start: {exc}", file=sys.stderr)
        return 2
    except harness.BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
