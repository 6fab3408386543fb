"""conversation_languages: the language billbot writes in to each sender, and why

Revision ID: 0008_conversation_languages
Revises: 0001_accounts
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
import billing.db.base

revision = "0008_conversation_languages"
down_revision = "0001_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_languages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_key", sa.String(length=120), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("updated_at", billing.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender_key"),
    )


def downgrade() -> None:
    op.drop_table("conversation_languages")
