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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("load-demo-data", help="insert the demo rows that are missing (idempotent)")
    args = parser.parse_args(argv)
    if args.command == "load-demo-data":
        return cmd_load_demo_data()
    parser.error(f"unknown command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
