"""patients: mailing address, email consent, opt-out and failing; email_opt_outs;
statement_notices (one per account and statement cycle)

Revision ID: 0008_statements_email
Revises: 0001_accounts
Create Date: 2026-12-10
"""
from alembic import op
import sqlalchemy as sa
import billing.db.base

revision = "0008_statements_email"
down_revision = "0001_accounts"
branch_labels = None
depends_on = None

UTC = billing.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address_line1", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("address_line2", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("city", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("zip", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("email_consent", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column("email_consent_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("email_opted_out_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("email_failing_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("email_failure", sa.String(length=16), nullable=True))
    op.create_table(
        "email_opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("opted_out_at", UTC, nullable=True),
        sa.Column("opted_in_at", UTC, nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_opt_outs")),
        sa.UniqueConstraint("address", name=op.f("uq_email_opt_outs_address")),
    )
    op.create_table(
        "statement_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=True),
        sa.Column("due_cents", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.String(length=200), nullable=True),
        sa.Column("error_code", sa.String(length=16), nullable=True),
        sa.Column("claimed_at", UTC, nullable=True),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"],
                                name=op.f("fk_statement_notices_patient_id_patients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_notices")),
        sa.UniqueConstraint("patient_id", "cycle", name="uq_statement_notices_patient_cycle"),
    )
    with op.batch_alter_table("statement_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_statement_notices_patient_id"), ["patient_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("statement_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_statement_notices_patient_id"))
    op.drop_table("statement_notices")
    op.drop_table("email_opt_outs")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        for name in ("email_failure", "email_failing_at", "email_opted_out_at",
                     "email_consent_at", "email_consent", "zip", "city", "address_line2",
                     "address_line1"):
            batch_op.drop_column(name)
