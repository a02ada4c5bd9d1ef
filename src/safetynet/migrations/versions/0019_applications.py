"""applications and decisions: applications with a date and timestamp per state, their history, their
documents (the verification report attached at the investigation); one open application per household
and matter (a partial unique index)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 22:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
OPEN = "status IN ('submitted', 'accepted', 'investigating', 'notice')"


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matter", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("household_no", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=14), nullable=False),
        sa.Column("grid_code", sa.String(length=14), nullable=True),
        sa.Column("applicant_person_id", sa.Integer(), nullable=False),
        sa.Column("warning_id", BIG_ID, nullable=True),
        sa.Column("task_id", BIG_ID, nullable=True),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("decides", sa.String(length=16), nullable=False),
        sa.Column("enrols", sa.String(length=24), nullable=True),
        sa.Column("needs_notice", sa.Boolean(), nullable=False),
        sa.Column("aid_first_hours", sa.Integer(), nullable=True),
        sa.Column("limit_working_days", sa.Integer(), nullable=True),
        sa.Column("limit_source", sa.Text(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("due_at", TS, nullable=True),
        sa.Column("investigation_due_on", sa.Date(), nullable=True),
        sa.Column("refusal_notice_due_on", sa.Date(), nullable=True),
        sa.Column("dates_provisional", sa.Boolean(), nullable=False),
        sa.Column("notice_until", sa.Date(), nullable=True),
        sa.Column("investigators", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("aid_on", sa.Date(), nullable=True),
        sa.Column("aid_at", TS, nullable=True),
        sa.Column("aid_amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("aid_assistance_id", sa.Integer(), nullable=True),
        sa.Column("refusal_notified_on", sa.Date(), nullable=True),
        sa.Column("verification", sa.JSON(), nullable=True),
        sa.Column("assessment", sa.JSON(), nullable=True),
        sa.Column("enrolment", sa.JSON(), nullable=True),
        sa.Column("enrolment_starts_on", sa.Date(), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("accepted_on", sa.Date(), nullable=True),
        sa.Column("not_accepted_on", sa.Date(), nullable=True),
        sa.Column("investigating_on", sa.Date(), nullable=True),
        sa.Column("notice_on", sa.Date(), nullable=True),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("refused_on", sa.Date(), nullable=True),
        sa.Column("enrolled_on", sa.Date(), nullable=True),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("submitted_at", TS, nullable=True),
        sa.Column("accepted_at", TS, nullable=True),
        sa.Column("not_accepted_at", TS, nullable=True),
        sa.Column("investigating_at", TS, nullable=True),
        sa.Column("notice_at", TS, nullable=True),
        sa.Column("approved_at", TS, nullable=True),
        sa.Column("refused_at", TS, nullable=True),
        sa.Column("enrolled_at", TS, nullable=True),
        sa.Column("withdrawn_at", TS, nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_applications_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["applicant_person_id"], ["persons.id"], name=op.f("fk_applications_applicant_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["warning_id"], ["warnings.id"], name=op.f("fk_applications_warning_id_warnings")
        ),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_applications_task_id_tasks")),
        sa.ForeignKeyConstraint(
            ["aid_assistance_id"],
            ["assistance_records.id"],
            name=op.f("fk_applications_aid_assistance_id_assistance_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
    )
    op.create_index("ix_applications_region_status", "applications", ["region_code", "status"], unique=False)
    op.create_index("ix_applications_household", "applications", ["household_id", "matter"], unique=False)
    op.create_index("ix_applications_status_due", "applications", ["status", "due_on"], unique=False)
    op.create_index(
        "uq_applications_open",
        "applications",
        ["household_id", "matter"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )

    op.create_table(
        "application_events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("dated_on", sa.Date(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_events_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_events")),
    )
    op.create_index(
        "ix_application_events_application", "application_events", ["application_id", "id"], unique=False
    )

    op.create_table(
        "application_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_documents_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_documents")),
    )
    op.create_index(
        "ix_application_documents_application",
        "application_documents",
        ["application_id", "kind"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_application_documents_application", table_name="application_documents")
    op.drop_table("application_documents")
    op.drop_index("ix_application_events_application", table_name="application_events")
    op.drop_table("application_events")
    op.drop_index("uq_applications_open", table_name="applications")
    op.drop_index("ix_applications_status_due", table_name="applications")
    op.drop_index("ix_applications_household", table_name="applications")
    op.drop_index("ix_applications_region_status", table_name="applications")
    op.drop_table("applications")
