"""Migrations: one head, up -> down -> up on a fresh database, and models equal to migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from app.db import make_engine, metadata
from app.models import include_name  # every table on the metadata, and what to compare
from tests.conftest import alembic_config, fresh_database, migrate


def test_there_is_exactly_one_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_upgrade_downgrade_upgrade_round_trip(tmp_path: Path) -> None:
    with fresh_database(tmp_path, "migrations") as url:
        config = alembic_config(url)
        migrate(url)
        engine = make_engine(url)
        try:
            assert "audit_event" in inspect(engine).get_table_names()
            command.downgrade(config, "base")
            engine.dispose()
            assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
            command.upgrade(config, "head")
            engine.dispose()
            assert set(metadata.tables) <= set(inspect(engine).get_table_names())
        finally:
            engine.dispose()


def test_models_match_the_migrations(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "compare_server_default": True,
                    "render_as_batch": conn.dialect.name == "sqlite",
                    "include_name": include_name,
                },
            )
            diff = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_app_models_lists_every_table() -> None:
    """Alembic sees only what app.models imports; the running app must not define more."""
    import subprocess
    import sys

    script = (
        "import app.models, app.db; before = set(app.db.metadata.tables); "
        "import app.main; print(sorted(set(app.db.metadata.tables) - before))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"LOG_LEVEL": "ERROR", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
