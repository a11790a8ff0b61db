"""The daily retention command runs every programme's periods against the configured database."""

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


def test_the_command_deletes_an_expired_draft_and_reports_counts(tmp_path: Path) -> None:
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
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "retention"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "1 Helsinki-lisä drafts" in done.stdout
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM subsidy_application")).scalar() == 0
    engine.dispose()
