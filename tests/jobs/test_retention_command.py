"""The daily retention command runs every programme's periods against the configured database:
`python -m app.jobs retention [--dry-run]`, and the older `python -m app.cli retention`."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from app.auth.models import User
from app.companies.models import Company
from app.db import utcnow
from app.subsidies.models import Application, Origin
from tests.conftest import ROOT, migrate


def test_dry_run_then_run_then_run_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    migrate(url)
    engine = sa.create_engine(url)
    old = utcnow() - timedelta(days=181)
    with Session(engine) as session:
        user = User(kind="employer", issuer="https://idp.test", subject="retention")
        company = Company(business_id="1234567-8", name="Esimerkki Oy")
        session.add_all([user, company])
        session.flush()
        session.add(
            Application(
                company_id=company.id or 0,
                creator_id=user.id or 0,
                origin=Origin.handler,  # a paper draft: deleted without a reminder e-mail
                updated_at=old,
                created_at=old,
            )
        )
        session.commit()
    env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "test", "FILES_DIR": str(tmp_path)}

    def run(*command: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def drafts_left() -> int:
        with engine.connect() as conn:
            return int(
                conn.execute(sa.text("SELECT count(*) FROM subsidy_application")).scalar_one()
            )

    def retention_audit_rows() -> int:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text("SELECT count(*) FROM audit_event WHERE action LIKE 'retention.%'")
                ).scalar_one()
            )

    dry = run("app.jobs", "retention", "--dry-run")
    assert "dry run" in dry
    assert "Helsinki-lisä drafts after 180 days: 1 to delete" in dry
    assert "Files: not swept (dry run)" in dry
    assert drafts_left() == 1
    assert retention_audit_rows() == 0

    done = run("app.jobs", "retention")
    assert "Helsinki-lisä drafts after 180 days: 1 deleted" in done
    assert '"event": "retention_subsidy_applications"' in done  # the counts, logged as JSON
    assert drafts_left() == 0
    assert retention_audit_rows() > 0

    again = run("app.cli", "retention")  # the same job through the older entry point
    assert "Helsinki-lisä drafts after 180 days: 0 deleted" in again
    engine.dispose()
