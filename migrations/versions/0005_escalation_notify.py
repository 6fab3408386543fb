"""escalation notify: escalations.notified_at, set when the representatives' Telegram group
was told about a new escalation (bot/escalation_notices.py)

Revision ID: 0005_escalation_notify
Revises: 0001_accounts
Create Date: 2026-11-27 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import billing.db.base


revision = '0005_escalation_notify'
down_revision = '0001_accounts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notified_at', billing.db.base.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_column('notified_at')
