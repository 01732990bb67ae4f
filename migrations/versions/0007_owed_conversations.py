"""owed conversations and crisis set-up: hand-offs, both clocks, repeated questions, one alert per window, crises in words

Revision ID: 0007
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handoff', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('replied_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('taken_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('taken_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('take_due', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('asked_count', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('last_asked_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_inquiries_handoff'), ['handoff'], unique=False)
        batch_op.create_foreign_key('fk_inquiries_taken_by_id', 'users', ['taken_by_id'], ['id'])
    # Earlier versions made every routed answer owed; only escalations and questions sent to PR were handed over.
    op.execute("UPDATE inquiries SET handoff = 'escalation' WHERE outcome = 'escalate'")
    op.execute("UPDATE inquiries SET handoff = 'no_match' WHERE sent_to_pr AND handoff IS NULL")
    op.execute("UPDATE inquiries SET department_id = NULL WHERE handoff IS NULL AND resolved_at IS NULL")
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('take_minutes', sa.Integer(), nullable=False, server_default='60'))
    with op.batch_alter_table('crises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('categories', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('keywords', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('holding_statements', sa.JSON(), nullable=True))
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('window_start', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('inquiry_ids', sa.JSON(), nullable=True))
        batch_op.create_unique_constraint('uq_alerts_topic_window', ['kind', 'key', 'window_start'])


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_constraint('uq_alerts_topic_window', type_='unique')
        batch_op.drop_column('inquiry_ids')
        batch_op.drop_column('window_start')
    with op.batch_alter_table('crises', schema=None) as batch_op:
        batch_op.drop_column('holding_statements')
        batch_op.drop_column('keywords')
        batch_op.drop_column('categories')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_column('take_minutes')
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.drop_constraint('fk_inquiries_taken_by_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_inquiries_handoff'))
        batch_op.drop_column('last_asked_at')
        batch_op.drop_column('asked_count')
        batch_op.drop_column('take_due')
        batch_op.drop_column('taken_by_id')
        batch_op.drop_column('taken_at')
        batch_op.drop_column('replied_at')
        batch_op.drop_column('handoff')
