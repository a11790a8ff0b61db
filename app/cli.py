"""Command-line jobs: `python -m app.cli load-demo-data`."""

from __future__ import annotations

import argparse
import sys

from sqlmodel import Session

from app import crypto
from app.config import get_settings
from app.db import make_engine
from app.demo import load_demo_data


def cmd_load_demo_data() -> int:
    settings = get_settings()
    if settings.is_production:
        print("Refusing to load demo data in production.", file=sys.stderr)
        return 2
    crypto.configure(settings)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            added = load_demo_data(session)
            session.commit()
    finally:
        engine.dispose()
    summary = ", ".join(f"{name}: {count} added" for name, count in added.items())
    print(f"Demo data loaded ({summary}).")
    return 0


def cmd_send_mail() -> int:
    """Send the e-mail waiting in the outbox (cron or a Kubernetes CronJob runs this)."""
    from app.notifications.worker import run_outbox_once

    result = run_outbox_once()
    print(f"Outbox: {result.sent} sent, {result.retried} to retry, {result.failed} failed.")
    return 0


def cmd_retention(*, dry_run: bool = False) -> int:
    """Delete personal data whose retention period has ended (run daily); the same job as
    `python -m app.jobs retention`."""
    from app.jobs.retention import command

    return command(dry_run=dry_run)


def cmd_test_idp(host: str, port: int) -> int:
    """The local test identity provider (oidc-provider-mock) with the demo users. Development only:
    the package is a dev dependency, and production refuses a loopback issuer."""
    import os

    import werkzeug.serving
    from oidc_provider_mock import User, app

    from app.demo import DEMO_USERS

    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # plain HTTP on loopback
    users = [
        User(sub=str(u["sub"]), claims={k: v for k, v in u.items() if k != "sub"})
        for u in DEMO_USERS
    ]
    provider = app(require_nonce=True, user_claims=users)
    print(
        f"Test identity provider: http://{host}:{port} (users: {', '.join(u.sub for u in users)})"
    )
    werkzeug.serving.run_simple(
        host, port, provider, threaded=True, use_reloader=False, use_debugger=False
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("load-demo-data", help="insert the demo rows that are missing (idempotent)")
    sub.add_parser("send-mail", help="send the e-mail waiting in the outbox")
    retention = sub.add_parser(
        "retention", help="delete personal data whose retention period has ended"
    )
    retention.add_argument(
        "--dry-run", action="store_true", help="print the counts, change nothing"
    )
    idp = sub.add_parser(
        "test-idp", help="run the local test identity provider with the demo users"
    )
    idp.add_argument("--host", default="127.0.0.1")
    idp.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    if args.command == "load-demo-data":
        return cmd_load_demo_data()
    if args.command == "retention":
        return cmd_retention(dry_run=args.dry_run)
    if args.command == "send-mail":
        return cmd_send_mail()
    if args.command == "test-idp":
        return cmd_test_idp(args.host, args.port)
    parser.error(f"unknown command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
