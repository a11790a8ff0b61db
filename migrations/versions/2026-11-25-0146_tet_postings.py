"""TET: classifications (seeded in fi/sv/en), postings, their classifications, supervisor
confirmations, full-text search, and the city unit of a staff session.

Revision ID: 9e41c0b7d2a3
Revises: 7c1d2e9a4b55
Create Date: 2026-11-25 01:46:21.067276+00:00

Search: on PostgreSQL two generated tsvector columns with GIN indexes (`search_vector`, Finnish
configuration, over `search_text`; `tag_vector`, simple configuration, over `tags`); on SQLite an
FTS5 table over the same two columns, kept in step by triggers. Neither is in the SQLModel models
(app.models.include_name leaves them out of the comparison). A later batch-mode change of
`tet_posting` on SQLite recreates the table: it must recreate the triggers too.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "9e41c0b7d2a3"
down_revision: str | None = "7c1d2e9a4b55"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SQLITE_TRIGGERS = (
    "CREATE TRIGGER tet_posting_ai AFTER INSERT ON tet_posting BEGIN "
    "INSERT INTO tet_posting_fts(rowid, search_text, tags) "
    "VALUES (new.id, new.search_text, new.tags); END",
    "CREATE TRIGGER tet_posting_ad AFTER DELETE ON tet_posting BEGIN "
    "INSERT INTO tet_posting_fts(tet_posting_fts, rowid, search_text, tags) "
    "VALUES ('delete', old.id, old.search_text, old.tags); END",
    "CREATE TRIGGER tet_posting_au AFTER UPDATE OF search_text, tags ON tet_posting BEGIN "
    "INSERT INTO tet_posting_fts(tet_posting_fts, rowid, search_text, tags) "
    "VALUES ('delete', old.id, old.search_text, old.tags); "
    "INSERT INTO tet_posting_fts(rowid, search_text, tags) "
    "VALUES (new.id, new.search_text, new.tags); END",
)

# A starting set; staff add, rename and retire values in the back office.
SEED: dict[str, list[tuple[str, str, str, str]]] = {
    "field": [
        ("retail", "Kauppa ja myynti", "Handel och försäljning", "Retail and sales"),
        (
            "health_care",
            "Sosiaali- ja terveysala",
            "Social- och hälsovård",
            "Health and social care",
        ),
        ("construction", "Rakennusala", "Byggbranschen", "Construction"),
        ("ict", "Tieto- ja viestintätekniikka", "Informations- och kommunikationsteknik", "ICT"),
        ("culture", "Kulttuuri ja taide", "Kultur och konst", "Culture and arts"),
        (
            "food_service",
            "Ravintola- ja ruokapalvelut",
            "Restaurang- och måltidstjänster",
            "Food service",
        ),
        (
            "logistics",
            "Logistiikka ja kuljetus",
            "Logistik och transport",
            "Logistics and transport",
        ),
        ("education", "Kasvatus ja opetus", "Fostran och undervisning", "Education"),
        ("offices", "Toimistotyö", "Kontorsarbete", "Office work"),
        ("public_sector", "Julkinen hallinto", "Offentlig förvaltning", "Public sector"),
        ("sports", "Liikunta ja vapaa-aika", "Idrott och fritid", "Sports and leisure"),
        ("beauty", "Kauneudenhoito", "Skönhetsvård", "Beauty care"),
        ("industry", "Teollisuus ja tekniikka", "Industri och teknik", "Industry and technology"),
        ("environment", "Ympäristö ja luonto", "Miljö och natur", "Environment and nature"),
        (
            "property",
            "Kiinteistöhuolto ja siivous",
            "Fastighetsskötsel och städning",
            "Property services and cleaning",
        ),
    ],
    "method": [
        ("shadowing", "Työn varjostus", "Skuggning", "Job shadowing"),
        ("real_work", "Tee oikeita töitä", "Gör riktigt arbete", "Doing real work"),
        ("group_visit", "Ryhmävierailu", "Gruppbesök", "Group visit"),
        ("remote_part", "Osittain etänä", "Delvis på distans", "Partly remote"),
        ("own_project", "Oma projekti", "Eget projekt", "Own project"),
        (
            "rotation",
            "Eri tehtäviin tutustuminen",
            "Rotation mellan uppgifter",
            "Rotating between tasks",
        ),
    ],
    "feature": [
        ("outdoors", "Ulkotyö", "Utomhusarbete", "Outdoors"),
        ("physical", "Fyysinen työ", "Fysiskt arbete", "Physical work"),
        ("customers", "Asiakkaiden kanssa", "Med kunder", "With customers"),
        ("animals", "Eläinten kanssa", "Med djur", "With animals"),
        (
            "accessible",
            "Soveltuu liikuntavammaiselle",
            "Passar elever med rörelsehinder",
            "Suits a pupil with reduced mobility",
        ),
        (
            "visually_impaired",
            "Soveltuu näkövammaiselle",
            "Passar synskadade elever",
            "Suits a visually impaired pupil",
        ),
        ("teamwork", "Tiimityö", "Teamarbete", "Teamwork"),
        ("independent", "Itsenäinen työ", "Självständigt arbete", "Independent work"),
        ("computer", "Tietokonetyö", "Datorarbete", "Computer work"),
        ("creative", "Luova työ", "Kreativt arbete", "Creative work"),
        (
            "no_finnish_needed",
            "Suomen kieltä ei tarvita",
            "Finska behövs inte",
            "No Finnish needed",
        ),
    ],
}


def upgrade() -> None:
    op.create_table(
        "tet_classification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name_fi", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name_sv", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("ordering", sa.Integer(), nullable=False),
        sa.Column("retired_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('field', 'method', 'feature')", name=op.f("ck_tet_classification_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tet_classification")),
        sa.UniqueConstraint("code", name=op.f("uq_tet_classification_code")),
    )
    op.create_table(
        "tet_posting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("owner_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column(
            "organisation_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("org_unit", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("street", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("postcode", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("contact_phone", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("contact_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("spots", sa.Integer(), nullable=False),
        sa.Column("languages", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("keywords", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("website", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True),
        sa.Column("image_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("image_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("image_width", sa.Integer(), nullable=True),
        sa.Column("image_height", sa.Integer(), nullable=True),
        sa.Column("photographer", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("published_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("tags", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.CheckConstraint(
            "owner_kind IN ('company', 'city_unit')", name=op.f("ck_tet_posting_owner_kind")
        ),
        sa.CheckConstraint("status IN ('draft', 'published')", name=op.f("ck_tet_posting_status")),
        sa.CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
            name=op.f("ck_tet_posting_dates"),
        ),
        sa.CheckConstraint("spots >= 1", name=op.f("ck_tet_posting_spots")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["app_user.id"], name=op.f("fk_tet_posting_created_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["app_user.id"], name=op.f("fk_tet_posting_updated_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tet_posting")),
    )
    with op.batch_alter_table("tet_posting", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tet_posting_owner", ["owner_kind", "owner_id", "updated_at", "id"], unique=False
        )
        batch_op.create_index("ix_tet_posting_postcode", ["postcode"], unique=False)
        batch_op.create_index(
            "ix_tet_posting_search_start",
            ["start_date", "id"],
            unique=False,
            postgresql_where=sa.text("status = 'published'"),
            sqlite_where=sa.text("status = 'published'"),
        )

    op.create_table(
        "tet_supervisor_confirmation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("owner_kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("owner_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("confirmed_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_tet_supervisor_confirmation_user_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tet_supervisor_confirmation")),
        sa.UniqueConstraint("user_id", "owner_kind", "owner_id", name="user_owner"),
    )
    op.create_table(
        "tet_posting_classification",
        sa.Column("posting_id", sa.Integer(), nullable=False),
        sa.Column("classification_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["classification_id"],
            ["tet_classification.id"],
            name=op.f("fk_tet_posting_classification_classification_id_tet_classification"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["posting_id"],
            ["tet_posting.id"],
            name=op.f("fk_tet_posting_classification_posting_id_tet_posting"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "posting_id", "classification_id", name=op.f("pk_tet_posting_classification")
        ),
    )
    with op.batch_alter_table("tet_posting_classification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tet_posting_classification_classification_id"),
            ["classification_id"],
            unique=False,
        )

    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE tet_posting ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
            "(to_tsvector('finnish', search_text)) STORED"
        )
        op.execute(
            "ALTER TABLE tet_posting ADD COLUMN tag_vector tsvector GENERATED ALWAYS AS "
            "(to_tsvector('simple', tags)) STORED"
        )
        op.execute(
            "CREATE INDEX ix_tet_posting_search_vector ON tet_posting USING gin (search_vector)"
        )
        op.execute("CREATE INDEX ix_tet_posting_tag_vector ON tet_posting USING gin (tag_vector)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE tet_posting_fts USING fts5("
            "search_text, tags, content='tet_posting', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)

    classification = sa.table(
        "tet_classification",
        sa.column("kind", sa.String),
        sa.column("code", sa.String),
        sa.column("name_fi", sa.String),
        sa.column("name_sv", sa.String),
        sa.column("name_en", sa.String),
        sa.column("ordering", sa.Integer),
        sa.column("created_at", app.db.UTCDateTime()),
        sa.column("updated_at", app.db.UTCDateTime()),
    )
    now = datetime(2026, 11, 25, tzinfo=UTC)
    op.bulk_insert(
        classification,
        [
            {
                "kind": kind,
                "code": code,
                "name_fi": fi,
                "name_sv": sv,
                "name_en": en,
                "ordering": index,
                "created_at": now,
                "updated_at": now,
            }
            for kind, rows in SEED.items()
            for index, (code, fi, sv, en) in enumerate(rows, start=1)
        ],
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("tet_posting_ai", "tet_posting_ad", "tet_posting_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS tet_posting_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_tet_posting_search_vector")
        op.execute("DROP INDEX IF EXISTS ix_tet_posting_tag_vector")
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_column("unit")

    with op.batch_alter_table("tet_posting_classification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tet_posting_classification_classification_id"))

    op.drop_table("tet_posting_classification")
    op.drop_table("tet_supervisor_confirmation")
    with op.batch_alter_table("tet_posting", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_tet_posting_search_start",
            postgresql_where=sa.text("status = 'published'"),
            sqlite_where=sa.text("status = 'published'"),
        )
        batch_op.drop_index("ix_tet_posting_postcode")
        batch_op.drop_index("ix_tet_posting_owner")

    op.drop_table("tet_posting")
    op.drop_table("tet_classification")
