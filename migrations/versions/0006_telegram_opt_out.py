"""patients.telegram_opted_out_at: STOP in a Telegram chat ends reminders there

Revision ID: 0006_telegram_opt_out
Revises: 0001_accounts
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa
import billing.db.base

revision = "0006_telegram_opt_out"
down_revision = "0001_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("telegram_opted_out_at", billing.db.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("telegram_opted_out_at")
