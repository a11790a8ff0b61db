"""Helsinki-lisä staff queue and search over many applications (issue #5: p95 under 50 ms).

    .venv/bin/python bench/subsidies.py [--db postgres|sqlite] [--applications 100000]

`--applications` (100 000) sent Helsinki-lisä applications of `--companies` (3 000) companies are
bulk-inserted before uvicorn starts: statuses received / handling / additional information
needed / accepted / rejected / cancelled by age (the last weeks are mostly waiting work, older
ones mostly decided), submitted over the last two years with sequential application numbers in
that order, the register's company name copied, employee names and identity codes encrypted by
app.crypto with the app's own keys and their blind indexes computed by app.subsidies.service,
handlers on the rows in handling and after, and some applicant messages (the queue's unread
column). Then `staff-handler` logs in through the test identity provider (oidc-provider-mock, in
this process) and, with that session's cookie, wrk (or the asyncio fallback) loads:

- the queue `/admin/subsidies` (the default tab, "received", oldest first), a second tab
  (`--tab`, default "decided": two statuses, newest first), and a later page of the default tab
  reached by following the page's "Next page" link (`--page`, default 10: its key cursor);
- the search (every tab, newest first) by application number, business id, company name (part
  of it), employee's full name, employee's last name and exact identity code.

It prints req/s, p50/p95/p99 and the ratios to /api/v1/ping measured in the same run, the rows
each page showed (a search that finds nothing would measure the wrong thing), and whether each
route's p95 is under 50 ms. Everything stays on 127.0.0.1 and is time-bounded; the database is
dropped afterwards.
"""

from __future__ import annotations

import argparse
import html
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
from decimal import Decimal
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
from summer_voucher import (  # noqa: E402  (the same login and settings as the youth queue)
    NO_RATE_LIMITS,
    STAFF_HOME_ROUTE,
    STAFF_SUB,
    bench_settings,
    identity_provider,
    make_hetu,
    staff_cookie,
)

from app import crypto  # noqa: E402
from app.auth.models import User  # noqa: E402
from app.companies.models import Company  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.subsidies import events, service  # noqa: E402
from app.subsidies.models import (  # noqa: E402
    Application,
    ApplicationStatus,
    Counter,
    Message,
    MessageKind,
)

S = ApplicationStatus
QUEUE_ROUTE = "/admin/subsidies"
TARGET_P95_MS = 50.0
STAFF_ISSUER = "https://bench.invalid/staff"  # seeded handlers; the logged-in one is the IdP's
EMPLOYER_ISSUER = "https://bench.invalid/suomi-fi"
TWO_YEARS = timedelta(days=730)

FIRST_NAMES = (
    "Aino", "Eino", "Helmi", "Väinö", "Sofia", "Leo", "Olivia", "Elias", "Aada", "Oliver",
    "Emma", "Onni", "Ella", "Eetu", "Lilja", "Veeti", "Venla", "Aleksi", "Iida", "Juho",
    "Pihla", "Niilo", "Kerttu", "Toivo", "Siiri", "Mikael", "Linnea", "Aaro", "Isla", "Lenni",
    "Emilia", "Oskari", "Hilla", "Eemil", "Selma", "Joona", "Aurora", "Matias", "Enni", "Kasper",
    "Minea", "Ahmed", "Fatima", "Mohamed", "Amina", "Ivan", "Anastasia", "Li", "Mei", "Omar",
)  # fmt: skip
LAST_NAMES = (
    "Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen",
    "Koskinen", "Järvinen", "Lehtonen", "Lehtinen", "Saarinen", "Salminen", "Heinonen",
    "Niemi", "Heikkilä", "Kinnunen", "Salonen", "Turunen", "Salo", "Laitinen", "Tuominen",
    "Rantanen", "Karjalainen", "Jokinen", "Mattila", "Savolainen", "Lahtinen", "Ahonen",
    "Kärkkäinen", "Hiltunen", "Leinonen", "Miettinen", "Hirvonen", "Pitkänen", "Räsänen",
    "Aaltonen", "Manninen", "Anttila", "Lindholm", "Nyström", "Lindqvist", "Hassan", "Ali",
    "Ivanov", "Smirnova", "Nguyen", "Wang", "Ahmed", "Koivisto", "Peltonen", "Lindroos",
    "Kallio", "Hakala", "Jääskeläinen", "Seppälä", "Tanskanen", "Huttunen", "Vainio",
)  # fmt: skip
OWNERS = (
    "Virtasen", "Korhosen", "Mäkisen", "Niemisen", "Laineen", "Kallion", "Vallilan", "Töölön",
    "Kruununhaan", "Herttoniemen", "Itäkeskuksen", "Malmin", "Pasilan", "Vuosaaren", "Kampin",
    "Punavuoren", "Sörnäisten", "Munkkiniemen", "Lauttasaaren", "Käpylän", "Pohjolan", "Stadin",
    "Helsingin", "Etelä-Suomen", "Uudenmaan", "Nordic", "Baltic", "Arctic", "City", "Meri",
    "Aalto", "Kivi", "Tammi", "Koivu", "Kuusi", "Pihlaja", "Kataja", "Vaahtera", "Lumi", "Kaski",
    "Sisu", "Taito", "Ahkera", "Reima", "Oiva", "Kaiku", "Tähti", "Aurinko", "Kuu", "Revontuli",
)  # fmt: skip
TRADES = (
    "Kahvila", "Leipomo", "Ravintola", "Rakennus", "Siivous", "Kiinteistöhuolto", "Maalaus",
    "Putki", "Sähkö", "Autokorjaamo", "Kukka", "Kirjapaino", "Tilitoimisto", "Hoiva",
    "Kotipalvelu", "Kuljetus", "Logistiikka", "Puutarha", "Parturi", "Kauneushoitola", "Kuntosali",
    "Ohjelmisto", "Media", "Mainos", "Arkkitehti", "Insinööri", "Lakiasiaintoimisto", "Catering",
    "Pesula", "Lukko", "Lasitus", "Remontti", "Metalli", "Puusepän", "Ompelimo", "Optikko",
    "Apteekki", "Eläinlääkäri", "Hammaslääkäri", "Fysioterapia",
)  # fmt: skip
FORMS = ("Oy", "Oy", "Oy", "Ky", "ry", "Tmi", "Osuuskunta")
COMPANY_FORMS = {
    "Oy": "Osakeyhtiö",
    "Ky": "Kommandiittiyhtiö",
    "ry": "Aatteellinen yhdistys",
    "Tmi": "Yksityinen elinkeinonharjoittaja",
    "Osuuskunta": "Osuuskunta",
}
HANDLER_NAMES = (
    "Hanna Käsittelijä", "Pekka Käsittelijä", "Maria Käsittelijä", "Jussi Käsittelijä",
    "Leena Käsittelijä", "Timo Käsittelijä", "Anna Päättäjä", "Mikko Päättäjä",
)  # fmt: skip

# (status, weight) by how many days ago the application was sent: recent ones are waiting work,
# older ones are mostly decided, with a few still open.
_MIX_RECENT = ((S.received, 55), (S.handling, 28), (S.additional_information_needed, 10),
               (S.cancelled, 5), (S.rejected, 2))  # fmt: skip
_MIX_MONTHS = ((S.received, 10), (S.handling, 27), (S.additional_information_needed, 10),
               (S.accepted, 38), (S.rejected, 8), (S.cancelled, 7))  # fmt: skip
_MIX_OLD = ((S.accepted, 74), (S.rejected, 13), (S.cancelled, 10), (S.handling, 2),
            (S.additional_information_needed, 0.5), (S.received, 0.5))  # fmt: skip


def status_mix(age: timedelta) -> tuple[tuple[ApplicationStatus, float], ...]:
    if age < timedelta(days=30):
        return _MIX_RECENT
    if age < timedelta(days=90):
        return _MIX_MONTHS
    return _MIX_OLD


def business_id(number: int) -> str:
    """A valid Finnish business id (Y-tunnus) from a 7-digit number (some numbers have none)."""
    digits = f"{number:07d}"
    remainder = sum(int(d) * w for d, w in zip(digits, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    if remainder == 1:
        raise ValueError("no check digit")
    return f"{digits}-{0 if remainder == 0 else 11 - remainder}"


# --------------------------------------------------------------------------------------------
# Seeding (runs in `prepare`, after the migrations, before uvicorn)


@dataclass(frozen=True)
class Seeded:
    """What the searches look for: values of real rows, picked while seeding."""

    applications: int
    companies: int
    counts: dict[str, int]
    number: int
    business_id: str
    company_part: str
    employee_name: str
    employee_last_name: str
    hetu: str


def _companies(rng: random.Random, count: int) -> list[dict[str, Any]]:
    names: set[str] = set()
    rows: list[dict[str, Any]] = []
    number = 2_000_000 + rng.randrange(1000)
    while len(rows) < count:
        number += rng.randrange(1, 300)
        try:
            bid = business_id(number)
        except ValueError:
            continue
        form = rng.choice(FORMS)
        name = f"{rng.choice(OWNERS)} {rng.choice(TRADES)} {form}"
        if name in names:
            name = f"{name.removesuffix(' ' + form)} {len(rows)} {form}"
        names.add(name)
        rows.append(
            {
                "business_id": bid,
                "name": name,
                "company_form": COMPANY_FORMS[form],
                "industry": None,
                "street_address": f"Bench-katu {len(rows) % 200 + 1}",
                "postcode": f"00{rng.randrange(100, 990, 10)}",
                "city": "Helsinki",
                "is_association": form == "ry",
                "created_at": datetime.now(UTC) - TWO_YEARS - timedelta(days=30),
            }
        )
    return rows


def seed(
    database_url: str,
    *,
    count: int,
    companies: int,
    extra_sql: Sequence[str] = (),
    seed_value: int = 5,
) -> Seeded:
    """`companies` companies with an employer user each, 8 handlers, `count` sent applications
    and some applicant messages, inserted with executemany; then `extra_sql` (e.g. an index
    being considered for a migration), then VACUUM ANALYZE (or ANALYZE)."""
    rng = random.Random(seed_value)
    settings = bench_settings(database_url)
    crypto.configure(settings)  # EncryptedString and the blind indexes use the app's keys
    engine = make_engine(database_url)
    started = time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    first = now - TWO_YEARS
    application_table: sa.Table = Application.__table__  # type: ignore[attr-defined]
    company_table: sa.Table = Company.__table__  # type: ignore[attr-defined]
    users: sa.Table = User.__table__  # type: ignore[attr-defined]
    counter: sa.Table = Counter.__table__  # type: ignore[attr-defined]
    message_table: sa.Table = Message.__table__  # type: ignore[attr-defined]
    try:
        with engine.begin() as conn:
            company_rows = _companies(rng, companies)
            conn.execute(sa.insert(company_table), company_rows)
            company_ids: dict[str, int] = dict(
                conn.execute(sa.select(company_table.c.business_id, company_table.c.id)).all()
            )
            conn.execute(
                sa.insert(users),
                [
                    {
                        "kind": "employer",
                        "issuer": EMPLOYER_ISSUER,
                        "subject": f"employer-{i}",
                        "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                        "email": f"employer{i}@bench.example",
                        "created_at": first,
                    }
                    for i in range(len(company_rows))
                ]
                + [
                    {
                        "kind": "staff",
                        "issuer": STAFF_ISSUER,
                        "subject": f"handler-{i}",
                        "name": name,
                        "email": f"handler{i}@bench.example",
                        "created_at": first,
                    }
                    for i, name in enumerate(HANDLER_NAMES)
                ],
            )
            user_ids: dict[str, int] = dict(
                conn.execute(sa.select(users.c.subject, users.c.id)).all()
            )
            handlers = [user_ids[f"handler-{i}"] for i in range(len(HANDLER_NAMES))]
            deciders = handlers[-2:]

            # Sent moments over two years (a little busier lately), oldest first: the numbers
            # follow the order of sending.
            moments = sorted(
                now - TWO_YEARS * (rng.random() ** 1.15) + timedelta(seconds=rng.randrange(60))
                for _ in range(count)
            )
            # Bigger employers send more: a skewed choice of company for each application.
            weights = [1 / (k + 10) for k in range(len(company_rows))]
            owners = rng.choices(range(len(company_rows)), weights=weights, k=count)
            hetus: set[str] = set()
            counts: dict[str, int] = {}
            picked: dict[str, Any] = {}
            messages: list[dict[str, Any]] = []
            batch: list[dict[str, Any]] = []

            def flush() -> None:
                if batch:
                    conn.execute(sa.insert(application_table), batch)
                    batch.clear()

            for i, sent in enumerate(moments):
                age = now - sent
                statuses, status_weights = zip(*status_mix(age), strict=True)
                status = rng.choices(statuses, weights=status_weights)[0]
                counts[status.value] = counts.get(status.value, 0) + 1
                company = company_rows[owners[i]]
                while True:
                    born = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 46))
                    hetu = make_hetu(born, rng.randrange(2, 900))
                    if hetu not in hetus:
                        hetus.add(hetu)
                        break
                first_name, last_name = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                full_name = f"{first_name} {last_name}"
                start = (sent + timedelta(days=rng.randrange(0, 30))).date()
                open_or_closed = status not in (S.received,)
                handler = rng.choice(handlers) if open_or_closed else None
                handling_started = sent + timedelta(days=rng.randrange(1, 10))
                decided = status in (S.accepted, S.rejected)
                decided_at = min(now, handling_started + timedelta(days=rng.randrange(3, 40)))
                info_at = min(now, handling_started + timedelta(days=rng.randrange(1, 5)))
                updated = decided_at if decided else min(now, handling_started)
                if status == S.received:
                    updated = sent
                batch.append(
                    {
                        "application_number": i + 1,
                        "created_at": sent - timedelta(minutes=rng.randrange(10, 600)),
                        "updated_at": updated,
                        "company_id": company_ids[company["business_id"]],
                        "creator_id": user_ids[f"employer-{owners[i]}"],
                        "status": status.value,
                        "origin": "handler" if rng.random() < 0.03 else "applicant",
                        "language": rng.choices(("fi", "sv", "en"), weights=(88, 7, 5))[0],
                        "archived": status in (S.cancelled,),
                        "step": None,
                        "company_name": company["name"],
                        "company_form": company["company_form"],
                        "official_street_address": company["street_address"],
                        "official_postcode": company["postcode"],
                        "official_city": company["city"],
                        "is_association": company["is_association"],
                        "iban": "FI2112345600000785",
                        "contact_first_name": "Eija",
                        "contact_last_name": "Esimerkki",
                        "contact_phone": "040 123 4567",
                        "contact_email": f"contact{owners[i]}@bench.example",
                        "de_minimis_aid": False,
                        "co_operation_negotiations": False,
                        "other_subsidised_employed": False,
                        "employee_first_name": first_name,
                        "employee_last_name": last_name,
                        "employee_name_index": service.name_index(full_name),
                        "employee_last_name_index": service.last_name_index(last_name),
                        "employee_hetu": hetu,
                        "employee_hetu_index": service.hetu_index(hetu),
                        "is_living_in_helsinki": True,
                        "job_title": "Työntekijä",
                        "working_hours": Decimal("37.5"),
                        "monthly_pay": Decimal(rng.randrange(2000, 4200)),
                        "vacation_money": Decimal(0),
                        "other_expenses": Decimal(rng.randrange(300, 900)),
                        "pay_subsidy_granted": False,
                        "apprenticeship_program": False,
                        "benefit_type": "salary_benefit",
                        "start_date": start,
                        "end_date": start + timedelta(days=182),
                        "submitted_at": sent,
                        "last_submitted_at": sent,
                        "handler_id": handler,
                        "handling_started_at": handling_started if open_or_closed else None,
                        "information_requested_at": (
                            info_at if status == S.additional_information_needed else None
                        ),
                        "information_deadline": (
                            (info_at + timedelta(days=7)).date()
                            if status == S.additional_information_needed
                            else None
                        ),
                        "decision": status.value if decided else None,
                        "decided_at": decided_at if decided else None,
                        "decider_id": rng.choice(deciders) if decided else None,
                        "decision_reason": "Ei täytä ehtoja." if status == S.rejected else None,
                        "granted_as_de_minimis_aid": False if status == S.accepted else None,
                        "granted_amount": Decimal(800 * 6) if status == S.accepted else None,
                        "cancelled_at": updated if status == S.cancelled else None,
                        "cancel_reason": "Tuplahakemus" if status == S.cancelled else None,
                    }
                )
                if rng.random() < (0.3 if status in (S.received, S.handling) else 0.1):
                    unread = status != S.accepted and rng.random() < 0.5
                    messages.append(
                        {
                            "number": i + 1,
                            "created_at": min(now, sent + timedelta(days=1)),
                            "seen": None if unread else min(now, sent + timedelta(days=2)),
                        }
                    )
                # What the searches look for: a row in the middle of the numbers.
                if i == count // 2:
                    picked = {
                        "number": i + 1,
                        "business_id": company["business_id"],
                        "company_part": " ".join(company["name"].lower().split()[:2]),
                        "employee_name": full_name,
                        "employee_last_name": last_name,
                        "hetu": hetu,
                    }
                if len(batch) >= 5_000:
                    flush()
            flush()
            conn.execute(
                sa.update(counter)
                .where(counter.c.name == events.APPLICATION_NUMBER)
                .values(value=count)
            )
            if messages:
                ids: dict[int, int] = dict(
                    conn.execute(
                        sa.select(application_table.c.application_number, application_table.c.id)
                    ).all()
                )
                conn.execute(
                    sa.insert(message_table),
                    [
                        {
                            "application_id": ids[m["number"]],
                            "kind": MessageKind.applicant_message.value,
                            "sender_id": None,
                            "sender_name": "Eija Esimerkki",
                            "content": "Onko hakemuksemme jo käsittelyssä?",
                            "created_at": m["created_at"],
                            "seen_by_applicant_at": None,
                            "seen_by_handler_at": m["seen"],
                        }
                        for m in messages
                    ],
                )
        # A steady-state database has statistics (and, on PostgreSQL, a visibility map after
        # autovacuum); a fresh bulk load has neither, so give them before measuring.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for statement in extra_sql:
                harness.log(f"running {statement}")
                conn.exec_driver_sql(statement)
            conn.exec_driver_sql(
                "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
            )
            stored = conn.execute(
                sa.select(sa.func.count()).select_from(application_table)
            ).scalar_one()
    finally:
        engine.dispose()
    harness.log(
        f"seeded {stored:,} applications of {len(company_rows):,} companies and "
        f"{len(messages):,} messages in {time.perf_counter() - started:.1f} s"
    )
    return Seeded(applications=stored, companies=len(company_rows), counts=counts, **picked)


# --------------------------------------------------------------------------------------------
# Measuring


@dataclass(frozen=True)
class Route:
    label: str
    path: str
    rows: int = 0  # application rows the page showed when probed


_ROW_LINK = re.compile(r'href="/admin/subsidies/(\d+)"')


def queue_path(**params: str) -> str:
    return f"{QUEUE_ROUTE}?{urlencode(params)}" if params else QUEUE_ROUTE


def _next_link(page: str) -> str | None:
    """The "Next page" link: the last queue link of the pager, with `after` (the key cursor)."""
    links = [html.unescape(link) for link in re.findall(r'href="(/admin/subsidies\?[^"]*)"', page)]
    following = [link for link in links if "after=" in link]
    return following[-1] if following else None


def later_page(client: httpx.Client, pages: int) -> str:
    """The path of page `pages` of the default tab, reached by following "Next page" links."""
    path = QUEUE_ROUTE
    for page_number in range(1, pages):
        answer = client.get(path)
        if answer.status_code != 200:
            raise harness.BenchError(f"GET {path} answered {answer.status_code}")
        found = _next_link(answer.text)
        if found is None:
            raise harness.BenchError(f"page {page_number} of the queue has no next link")
        path = found
    return path


def routes_to_measure(client: httpx.Client, seeded: Seeded, *, tab: str, pages: int) -> list[Route]:
    routes = [
        Route("staff home /admin", STAFF_HOME_ROUTE),
        Route("queue: default tab (received)", QUEUE_ROUTE),
        Route(f"queue: tab {tab}", queue_path(tab=tab)),
        Route(f"queue: page {pages} (key cursor)", later_page(client, pages)),
        Route("search: application number", queue_path(q=str(seeded.number))),
        Route("search: business id", queue_path(q=seeded.business_id)),
        Route("search: company name (part)", queue_path(q=seeded.company_part)),
        Route("search: employee full name", queue_path(q=seeded.employee_name)),
        Route("search: employee last name", queue_path(q=seeded.employee_last_name)),
        Route("search: identity code", queue_path(q=seeded.hetu)),
    ]
    probed = []
    for route in routes:
        answer = client.get(route.path)
        if answer.status_code != 200:
            raise harness.BenchError(f"GET {route.path} answered {answer.status_code}")
        probed.append(replace(route, rows=len(set(_ROW_LINK.findall(answer.text)))))
    return probed


def run(args: argparse.Namespace, generator: harness.LoadGenerator) -> str:
    seeded: list[Seeded] = []

    def prepare(database_url: str) -> None:
        seeded.append(
            seed(
                database_url,
                count=args.applications,
                companies=args.companies,
                extra_sql=args.sql,
            )
        )

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
            headers = {"Cookie": cookie}
            with httpx.Client(base_url=app.base_url, headers=headers, timeout=30.0) as client:
                routes = routes_to_measure(client, seeded[0], tab=args.tab, pages=args.page)
            common: dict[str, Any] = {
                "duration": args.duration,
                "connections": args.connections,
                "warmup": args.warmup,
            }
            results = harness.measure_routes(
                generator, app.base_url, [harness.PING_ROUTE], **common
            )
            for route in routes:
                results += [
                    replace(r, route=route.label)
                    for r in harness.measure_routes(
                        generator, app.base_url, [route.path], headers=headers, **common
                    )
                ]
    info = seeded[0]
    mix = ", ".join(f"{s.value} {info.counts.get(s.value, 0):,}" for s in S if s != S.draft)
    lines = [
        f"== Helsinki-lisä staff queue and search over {info.applications:,} applications of "
        f"{info.companies:,} companies (db={args.db}, workers={args.workers}, "
        f"tool={generator.name}, connections={args.connections}, {args.duration} s per route, "
        f"pages of 50, logged in as {STAFF_SUB})",
        f"statuses: {mix}",
        *(f"extra SQL after seeding: {statement}" for statement in args.sql),
        harness.format_table(results),
        "",
        f"{'route':<34} {'rows':>4}  p95 < {TARGET_P95_MS:.0f} ms  path",
    ]
    by_label = {r.route: r for r in results}
    misses = 0
    for route in routes:
        result = by_label[route.label]
        ok = (
            math.isfinite(result.p95_ms)
            and result.p95_ms < TARGET_P95_MS
            and result.non_2xx == 0
            and result.errors == 0
        )
        if route.path.startswith(QUEUE_ROUTE):
            misses += not ok
        lines.append(
            f"{route.label:<34} {route.rows:>4}  {'yes' if ok else 'NO':>12}  {route.path}"
        )
    lines.append(
        "all queue and search routes p95 < 50 ms: "
        + ("yes" if misses == 0 else f"NO ({misses} missed)")
    )
    if args.json is not None:
        args.json.write_text(json.dumps(harness.to_json(results), indent=2, allow_nan=False) + "\n")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/subsidies.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--applications", type=int, default=100_000, help="default: 100000")
    parser.add_argument("--companies", type=int, default=3_000, help="default: 3000")
    parser.add_argument(
        "--tab",
        choices=("handling", "information", "decided", "cancelled", "all"),
        default="decided",
        help="the second tab measured (default: decided)",
    )
    parser.add_argument(
        "--page", type=int, default=10, help="the later page of the default tab (default: 10)"
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (default: 2)")
    parser.add_argument("--duration", type=int, default=5, help="load per route, s (default: 5)")
    parser.add_argument("--warmup", type=int, default=1, help="discarded warm-up, s (default: 1)")
    parser.add_argument("--connections", type=int, default=16, help="default: 16")
    parser.add_argument("--tool", choices=("auto", "wrk", "asyncio"), default="auto")
    parser.add_argument(
        "--sql",
        action="append",
        default=[],
        metavar="STATEMENT",
        help="SQL run after seeding, before ANALYZE (repeatable): try an index before "
        "writing its migration",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    args = parser.parse_args(argv)
    if args.page < 2:
        parser.error("--page must be at least 2")
    return args


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds: uvicorn stopped, database dropped, IdP closed


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    machine = harness.describe_machine()
    harness.log(machine)
    try:
        generator = harness.choose_load_generator(args.tool)
        report = run(args, generator)
    except harness.StartupError as exc:
        print(f"bench: the app did not start: {exc}", file=sys.stderr)
        return 2
    except harness.BenchError as exc:
        print(f"bench: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    print(f"{machine} before the run")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
