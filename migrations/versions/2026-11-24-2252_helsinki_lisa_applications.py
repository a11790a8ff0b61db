"""Helsinki-lisä: terms, applications, de minimis rows, files, messages, status history,
review marks, change history, calculations, earlier benefits; the first terms versions.

Revision ID: d6f310983d98
Revises: 483a976c316f
Create Date: 2026-11-24 22:52:47.284204+00:00
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.crypto
import app.db

revision: str = "d6f310983d98"
down_revision: str | None = "483a976c316f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_counter",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_app_counter")),
    )
    op.create_table(
        "subsidy_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("body_fi", sa.Text(), nullable=False),
        sa.Column("body_sv", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('terms_of_service', 'applicant_terms', 'handler_terms')",
            name=op.f("ck_subsidy_terms_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_terms")),
        sa.UniqueConstraint("kind", "effective_from", name="kind_effective_from"),
    )
    op.create_table(
        "subsidy_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_number", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("company_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("company_form", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column(
            "official_street_address", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True
        ),
        sa.Column("official_postcode", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("official_city", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("is_association", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "use_alternative_address", sa.Boolean(), server_default=sa.false(), nullable=False
        ),
        sa.Column(
            "company_department", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True
        ),
        sa.Column(
            "alternative_street_address",
            sqlmodel.sql.sqltypes.AutoString(length=256),
            nullable=True,
        ),
        sa.Column(
            "alternative_postcode", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True
        ),
        sa.Column("alternative_city", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("iban", app.crypto.EncryptedString(), nullable=True),
        sa.Column("contact_first_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("contact_last_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("contact_phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("contact_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("association_has_business_activities", sa.Boolean(), nullable=True),
        sa.Column("association_immediate_manager_check", sa.Boolean(), nullable=True),
        sa.Column("de_minimis_aid", sa.Boolean(), nullable=True),
        sa.Column("co_operation_negotiations", sa.Boolean(), nullable=True),
        sa.Column(
            "co_operation_negotiations_description",
            sqlmodel.sql.sqltypes.AutoString(length=256),
            nullable=True,
        ),
        sa.Column("other_subsidised_employed", sa.Boolean(), nullable=True),
        sa.Column("other_subsidised_number", sa.Integer(), nullable=True),
        sa.Column("employee_first_name", app.crypto.EncryptedString(), nullable=True),
        sa.Column("employee_last_name", app.crypto.EncryptedString(), nullable=True),
        sa.Column(
            "employee_name_index", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
        ),
        sa.Column(
            "employee_last_name_index", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
        ),
        sa.Column("employee_hetu", app.crypto.EncryptedString(), nullable=True),
        sa.Column(
            "employee_hetu_index", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
        ),
        sa.Column("is_living_in_helsinki", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("job_title", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("working_hours", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column(
            "collective_bargaining_agreement",
            sqlmodel.sql.sqltypes.AutoString(length=128),
            nullable=True,
        ),
        sa.Column("monthly_pay", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("vacation_money", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("other_expenses", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("pay_subsidy_granted", sa.Boolean(), nullable=True),
        sa.Column("pay_subsidy_percent", sa.Integer(), nullable=True),
        sa.Column("apprenticeship_program", sa.Boolean(), nullable=True),
        sa.Column("benefit_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("submitted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_submitted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paper_application_date", sa.Date(), nullable=True),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("handling_started_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("information_requested_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("information_deadline", sa.Date(), nullable=True),
        sa.Column("reopened_steps", sa.JSON(), nullable=True),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("decided_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decider_id", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=True),
        sa.Column("granted_as_de_minimis_aid", sa.Boolean(), nullable=True),
        sa.Column("granted_amount", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("decided_calculation", sa.JSON(), nullable=True),
        sa.Column("cancelled_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=True),
        sa.Column("draft_reminder_sent_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'draft') = (application_number IS NULL)",
            name=op.f("ck_subsidy_application_number_when_sent"),
        ),
        sa.CheckConstraint(
            "benefit_type IN ('salary_benefit', 'employment_benefit')",
            name=op.f("ck_subsidy_application_benefit_type"),
        ),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('accepted', 'rejected')",
            name=op.f("ck_subsidy_application_decision"),
        ),
        sa.CheckConstraint(
            "language IN ('fi', 'sv', 'en')", name=op.f("ck_subsidy_application_language")
        ),
        sa.CheckConstraint(
            "origin IN ('applicant', 'handler')", name=op.f("ck_subsidy_application_origin")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'received', 'handling', 'additional_information_needed', 'accepted', 'rejected', 'cancelled')",
            name=op.f("ck_subsidy_application_status"),
        ),
        sa.CheckConstraint(
            "pay_subsidy_percent IS NULL OR pay_subsidy_percent IN (50, 70, 100)",
            name=op.f("ck_subsidy_application_pay_subsidy_percent"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_subsidy_application_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["app_user.id"], name=op.f("fk_subsidy_application_creator_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["decider_id"], ["app_user.id"], name=op.f("fk_subsidy_application_decider_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["handler_id"], ["app_user.id"], name=op.f("fk_subsidy_application_handler_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_application")),
        sa.UniqueConstraint(
            "application_number", name=op.f("uq_subsidy_application_application_number")
        ),
    )
    with op.batch_alter_table("subsidy_application", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subsidy_application_company", ["company_id", "updated_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_subsidy_application_drafts",
            ["updated_at"],
            unique=False,
            postgresql_where=sa.text("status = 'draft'"),
        )
        batch_op.create_index(
            batch_op.f("ix_subsidy_application_employee_hetu_index"),
            ["employee_hetu_index"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_subsidy_application_employee_last_name_index"),
            ["employee_last_name_index"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_subsidy_application_employee_name_index"),
            ["employee_name_index"],
            unique=False,
        )
        batch_op.create_index(
            "ix_subsidy_application_queue", ["status", "submitted_at", "id"], unique=False
        )

    op.create_table(
        "subsidy_previous_benefit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("employee_hetu", app.crypto.EncryptedString(), nullable=False),
        sa.Column(
            "employee_hetu_index", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        ),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("monthly_amount", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("total_amount", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("apprenticeship", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_subsidy_previous_benefit_company_id_company"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_subsidy_previous_benefit_created_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_previous_benefit")),
    )
    with op.batch_alter_table("subsidy_previous_benefit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subsidy_previous_benefit_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_subsidy_previous_benefit_employee_hetu_index"),
            ["employee_hetu_index"],
            unique=False,
        )

    op.create_table(
        "subsidy_terms_consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terms_id", sa.Integer(), nullable=False),
        sa.Column("ordering", sa.Integer(), nullable=False),
        sa.Column("text_fi", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
        sa.Column("text_sv", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
        sa.Column("text_en", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
        sa.ForeignKeyConstraint(
            ["terms_id"],
            ["subsidy_terms.id"],
            name=op.f("fk_subsidy_terms_consent_terms_id_subsidy_terms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_terms_consent")),
        sa.UniqueConstraint("terms_id", "ordering", name="terms_ordering"),
    )
    with op.batch_alter_table("subsidy_terms_consent", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subsidy_terms_consent_terms_id"), ["terms_id"], unique=False
        )

    op.create_table(
        "subsidy_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("storage_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_staff", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "content_type IN ('application/pdf', 'image/png', 'image/jpeg')",
            name=op.f("ck_subsidy_attachment_content_type"),
        ),
        sa.CheckConstraint(
            "kind IN ('employment_contract', 'pay_subsidy_decision', 'education_contract', 'employee_consent', 'helsinki_benefit_voucher', 'other_attachment', 'full_application')",
            name=op.f("ck_subsidy_attachment_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["subsidy_application.id"],
            name=op.f("fk_subsidy_attachment_application_id_subsidy_application"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["app_user.id"],
            name=op.f("fk_subsidy_attachment_uploaded_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_attachment")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_subsidy_attachment_storage_key")),
    )
    with op.batch_alter_table("subsidy_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subsidy_attachment_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "subsidy_calculation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("benefit_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("monthly_pay", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("other_expenses", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("vacation_money", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("state_aid_max_percentage", sa.Integer(), nullable=True),
        sa.Column("apprenticeship", sa.Boolean(), nullable=False),
        sa.Column("instalments_enabled", sa.Boolean(), nullable=False),
        sa.Column("pay_subsidies", sa.JSON(), nullable=False),
        sa.Column("training_compensations", sa.JSON(), nullable=False),
        sa.Column(
            "override_monthly_benefit_amount", sa.Numeric(precision=8, scale=2), nullable=True
        ),
        sa.Column(
            "override_justification", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True
        ),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("total", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("calculated_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("calculated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "benefit_type IN ('salary_benefit', 'employment_benefit')",
            name=op.f("ck_subsidy_calculation_benefit_type"),
        ),
        sa.CheckConstraint(
            "state_aid_max_percentage IS NULL OR state_aid_max_percentage IN (50, 70, 100)",
            name=op.f("ck_subsidy_calculation_state_aid_max_percentage"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["subsidy_application.id"],
            name=op.f("fk_subsidy_calculation_application_id_subsidy_application"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["calculated_by_id"],
            ["app_user.id"],
            name=op.f("fk_subsidy_calculation_calculated_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_calculation")),
        sa.UniqueConstraint("application_id", name=op.f("uq_subsidy_calculation_application_id")),
    )
    op.create_table(
        "subsidy_de_minimis_aid",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("ordering", sa.Integer(), nullable=False),
        sa.Column("granter", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("granted_at", sa.Date(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_subsidy_de_minimis_aid_amount")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["subsidy_application.id"],
            name=op.f("fk_subsidy_de_minimis_aid_application_id_subsidy_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_de_minimis_aid")),
        sa.UniqueConstraint("application_id", "ordering", name="application_ordering"),
    )
    op.create_table(
        "subsidy_field_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("field_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("old_value", app.crypto.EncryptedString(), nullable=True),
        sa.Column("new_value", app.crypto.EncryptedString(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("actor_is_staff", sa.Boolean(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["app_user.id"], name=op.f("fk_subsidy_field_change_actor_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["subsidy_application.id"],
            name=op.f("fk_subsidy_field_change_application_id_subsidy_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_field_change")),
    )
    with op.batch_alter_table("subsidy_field_change", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subsidy_field_change_application",
            ["application_id", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "subsidy_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=True),
        sa.Column("sender_name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("content", sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_by_applicant_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("seen_by_handler_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('applicant_message', 'handler_message', 'note')",
            name=op.f("ck_subsidy_message_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["subsidy_application.id"],
            name=op.f("fk_subsidy_message_application_id_subsidy_application"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["app_user.id"], name=op.f("fk_subsidy_message_sender_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_message")),
    )
    with op.batch_alter_table("subsidy_message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subsidy_message_application", ["application_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "subsidy_review_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("section", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("checked_by_id", sa.Integer(), nullable=True),
        sa.Column("checked_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "section IN ('paper', 'company', 'company_contact_person', 'de_minimis_aids', 'co_operation_negotiations', 'employee', 'pay_subsidy', 'benefit', 'employment', 'approval')",
            name=op.f("ck_subsidy_review_mark_section"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["subsidy_application.id"],
            name=op.f("fk_subsidy_review_mark_application_id_subsidy_application"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["checked_by_id"],
            ["app_user.id"],
            name=op.f("fk_subsidy_review_mark_checked_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_review_mark")),
        sa.UniqueConstraint("application_id", "section", name="application_section"),
    )
    op.create_table(
        "subsidy_status_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("to_status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("actor_is_staff", sa.Boolean(), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["app_user.id"], name=op.f("fk_subsidy_status_event_actor_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["subsidy_application.id"],
            name=op.f("fk_subsidy_status_event_application_id_subsidy_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_status_event")),
    )
    with op.batch_alter_table("subsidy_status_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subsidy_status_event_application",
            ["application_id", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "subsidy_terms_approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terms_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("consent_ids", sa.JSON(), nullable=False),
        sa.Column("approved_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["subsidy_application.id"],
            name=op.f("fk_subsidy_terms_approval_application_id_subsidy_application"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_subsidy_terms_approval_company_id_company"),
        ),
        sa.ForeignKeyConstraint(
            ["terms_id"],
            ["subsidy_terms.id"],
            name=op.f("fk_subsidy_terms_approval_terms_id_subsidy_terms"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_subsidy_terms_approval_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_terms_approval")),
    )
    with op.batch_alter_table("subsidy_terms_approval", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subsidy_terms_approval_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_subsidy_terms_approval_terms_id"), ["terms_id"], unique=False
        )
        batch_op.create_index(
            "uq_subsidy_terms_approval_application",
            ["terms_id", "application_id"],
            unique=True,
            postgresql_where=sa.text("application_id IS NOT NULL"),
            sqlite_where=sa.text("application_id IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_subsidy_terms_approval_service",
            ["terms_id", "user_id", "company_id"],
            unique=True,
            postgresql_where=sa.text("application_id IS NULL"),
            sqlite_where=sa.text("application_id IS NULL"),
        )

    _seed_terms()


# The first versions of the terms, in force from the start of 2026; later versions are added by
# staff (a new row with a later effective_from), never by editing these.
_TERMS = [
    (
        1,
        "terms_of_service",
        (
            "Helsinki-lisän asiointipalvelun käyttöehdot: asioit organisaation puolesta, jonka "
            "Suomi.fi-valtuuksilla tai nimenkirjoitusoikeudella saat edustaa. Palvelu tallentaa "
            "tekemäsi toimenpiteet lokiin. Hakemuksen henkilötietoja käsitellään "
            "tietosuojaselosteen mukaisesti.",
            "Användarvillkor för e-tjänsten för Helsingforstillägget: du uträttar ärenden för den "
            "organisation som du med Suomi.fi-fullmakter eller namnteckningsrätt får företräda. "
            "Tjänsten loggar dina åtgärder. Personuppgifterna i ansökan behandlas enligt "
            "dataskyddsbeskrivningen.",
            "Terms of service of the Helsinki benefit e-service: you act for the organisation you "
            "may represent through Suomi.fi e-Authorizations or signing rights. The service logs "
            "what you do. Personal data in applications is processed as the privacy notice says.",
        ),
        [
            (
                "Hyväksyn palvelun käyttöehdot.",
                "Jag godkänner användarvillkoren.",
                "I accept the terms of service.",
            ),
        ],
    ),
    (
        2,
        "applicant_terms",
        (
            "Helsinki-lisää on haettava neljän kuukauden kuluessa työsuhteen alkamisesta. "
            "Helsinki-lisä maksetaan työnantajalle päätöksen jälkeen. Tuki voidaan periä "
            "takaisin, jos työsuhde päättyy tai hakemuksen tiedot osoittautuvat vääriksi.",
            "Helsingforstillägget ska sökas inom fyra månader från att anställningen börjat. "
            "Tillägget betalas till arbetsgivaren efter beslutet. Stödet kan återkrävas om "
            "anställningen upphör eller om uppgifterna i ansökan visar sig vara felaktiga.",
            "The Helsinki benefit must be applied for within four months of the start of the "
            "employment. It is paid to the employer after the decision. It may be recovered if "
            "the employment ends or the application's information proves wrong.",
        ),
        [
            (
                "Hyväksyn Helsinki-lisän ehdot.",
                "Jag godkänner villkoren för Helsingforstillägget.",
                "I accept the terms of the Helsinki benefit.",
            ),
            (
                "Ilmoitettu tilinumero on organisaation virallinen tili, ja minulla on oikeus "
                "asioida organisaation puolesta.",
                "Det angivna kontonumret är organisationens officiella konto och jag har rätt "
                "att uträtta ärenden för organisationen.",
                "The bank account given is the organisation's official account and I may act "
                "on the organisation's behalf.",
            ),
            (
                "Organisaatiolla ei ole verovelkaa eikä erääntyneitä maksuja kaupungille.",
                "Organisationen har inga skatteskulder och inga förfallna betalningar till staden.",
                "The organisation has no tax debts and no overdue payments to the City.",
            ),
            (
                "Suostun sähköiseen asiointiin: päätös ja viestit toimitetaan tämän palvelun ja "
                "sähköpostin kautta.",
                "Jag samtycker till elektronisk kommunikation: beslutet och meddelandena "
                "levereras via denna tjänst och e-post.",
                "I consent to electronic service: the decision and messages are delivered "
                "through this service and by e-mail.",
            ),
        ],
    ),
    (
        3,
        "handler_terms",
        (
            "Paperihakemuksen tallentaminen: tarkista ennen tallentamista, että hakija on "
            "hyväksynyt ehdot ja allekirjoittanut hakemuksen.",
            "Registrering av en pappersansökan: kontrollera innan du sparar att sökanden har "
            "godkänt villkoren och undertecknat ansökan.",
            "Entering a paper application: before saving, check that the applicant has "
            "accepted the terms and signed the application.",
        ),
        [
            (
                "Hakija on hyväksynyt Helsinki-lisän ehdot.",
                "Sökanden har godkänt villkoren för Helsingforstillägget.",
                "The applicant has accepted the terms of the Helsinki benefit.",
            ),
            (
                "Työnantaja on allekirjoittanut hakemuksen.",
                "Arbetsgivaren har undertecknat ansökan.",
                "The employer has signed the application.",
            ),
        ],
    ),
]


def _seed_terms() -> None:
    terms = sa.table(
        "subsidy_terms",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("version", sa.String),
        sa.column("effective_from", sa.Date),
        sa.column("body_fi", sa.Text),
        sa.column("body_sv", sa.Text),
        sa.column("body_en", sa.Text),
        sa.column("created_at", app.db.UTCDateTime),
    )
    consents = sa.table(
        "subsidy_terms_consent",
        sa.column("terms_id", sa.Integer),
        sa.column("ordering", sa.Integer),
        sa.column("text_fi", sa.String),
        sa.column("text_sv", sa.String),
        sa.column("text_en", sa.String),
    )
    now = datetime.now(UTC)
    for terms_id, kind, (fi, sv, en), items in _TERMS:
        op.execute(
            terms.insert().values(
                id=terms_id,
                kind=kind,
                version="2026-1",
                effective_from=date(2026, 1, 1),
                body_fi=fi,
                body_sv=sv,
                body_en=en,
                created_at=now,
            )
        )
        for ordering, (cfi, csv, cen) in enumerate(items, start=1):
            op.execute(
                consents.insert().values(
                    terms_id=terms_id, ordering=ordering, text_fi=cfi, text_sv=csv, text_en=cen
                )
            )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('subsidy_terms', 'id'), "
            "(SELECT max(id) FROM subsidy_terms))"
        )
    counter = sa.table("app_counter", sa.column("name", sa.String), sa.column("value", sa.Integer))
    op.execute(counter.insert().values(name="subsidy_application_number", value=0))


def downgrade() -> None:
    with op.batch_alter_table("subsidy_terms_approval", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_subsidy_terms_approval_service",
            postgresql_where=sa.text("application_id IS NULL"),
            sqlite_where=sa.text("application_id IS NULL"),
        )
        batch_op.drop_index(
            "uq_subsidy_terms_approval_application",
            postgresql_where=sa.text("application_id IS NOT NULL"),
            sqlite_where=sa.text("application_id IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_subsidy_terms_approval_terms_id"))
        batch_op.drop_index(batch_op.f("ix_subsidy_terms_approval_application_id"))

    op.drop_table("subsidy_terms_approval")
    with op.batch_alter_table("subsidy_status_event", schema=None) as batch_op:
        batch_op.drop_index("ix_subsidy_status_event_application")

    op.drop_table("subsidy_status_event")
    op.drop_table("subsidy_review_mark")
    with op.batch_alter_table("subsidy_message", schema=None) as batch_op:
        batch_op.drop_index("ix_subsidy_message_application")

    op.drop_table("subsidy_message")
    with op.batch_alter_table("subsidy_field_change", schema=None) as batch_op:
        batch_op.drop_index("ix_subsidy_field_change_application")

    op.drop_table("subsidy_field_change")
    op.drop_table("subsidy_de_minimis_aid")
    op.drop_table("subsidy_calculation")
    with op.batch_alter_table("subsidy_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subsidy_attachment_application_id"))

    op.drop_table("subsidy_attachment")
    with op.batch_alter_table("subsidy_terms_consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subsidy_terms_consent_terms_id"))

    op.drop_table("subsidy_terms_consent")
    with op.batch_alter_table("subsidy_previous_benefit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subsidy_previous_benefit_employee_hetu_index"))
        batch_op.drop_index(batch_op.f("ix_subsidy_previous_benefit_company_id"))

    op.drop_table("subsidy_previous_benefit")
    with op.batch_alter_table("subsidy_application", schema=None) as batch_op:
        batch_op.drop_index("ix_subsidy_application_queue")
        batch_op.drop_index(batch_op.f("ix_subsidy_application_employee_name_index"))
        batch_op.drop_index(batch_op.f("ix_subsidy_application_employee_last_name_index"))
        batch_op.drop_index(batch_op.f("ix_subsidy_application_employee_hetu_index"))
        batch_op.drop_index(
            "ix_subsidy_application_drafts", postgresql_where=sa.text("status = 'draft'")
        )
        batch_op.drop_index("ix_subsidy_application_company")

    op.drop_table("subsidy_application")
    op.drop_table("subsidy_terms")
    op.drop_table("app_counter")
