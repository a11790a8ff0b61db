"""Command-line jobs, run by cron or a Kubernetes CronJob (README.md, "Jobs"):
`python -m app.jobs retention` deletes what the retention periods say is due, and
`python -m app.jobs retention --dry-run` prints the same counts and changes nothing.
"""

from __future__ import annotations

import argparse
import sys

from app.jobs import retention


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.jobs")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "retention",
        help="delete the personal data whose retention period has ended (run daily)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="compute and print the counts, then roll back: nothing deleted, no e-mail queued",
    )
    args = parser.parse_args(argv)
    if args.command != "retention":  # argparse allows only the commands above
        parser.error(f"unknown command {args.command}")
    return retention.command(dry_run=args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
