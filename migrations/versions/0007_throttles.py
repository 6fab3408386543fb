"""throttles: attempts counted per key across workers (verification per account and address,
console logins per username and address, web chat messages per session and address)

Revision ID: 0007_throttles
Revises: 0001_accounts
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
import billing.db.base

revision = "0007_throttles"
down_revision = "0001_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_started_at", billing.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_at", billing.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("locked_until", billing.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttles")),
        sa.UniqueConstraint("key", name=op.f("uq_throttles_key")),
    )
    with op.batch_alter_table("throttles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_throttles_locked_until"), ["locked_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_throttles_locked_until"))
    op.drop_table("throttles")
