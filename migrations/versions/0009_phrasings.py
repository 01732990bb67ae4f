"""phrasings: customers' wordings learned from agents' picks, matched once an approver accepts them; the
suggestions an inquiry showed; indexes for the repeat check

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suggested_entry_ids', sa.JSON(), nullable=True))
    op.create_index('ix_inquiries_api_key_recent', 'inquiries', ['api_key_id', 'created_at'])
    op.create_index('ix_inquiries_user_recent', 'inquiries', ['user_id', 'created_at'])
    op.create_table(
        'phrasings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('text_hash', sa.String(length=64), nullable=False),
        sa.Column('lang', sa.String(length=8), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('times_picked', sa.Integer(), nullable=False),
        sa.Column('best_rank', sa.Integer(), nullable=True),
        sa.Column('inquiry_id', sa.Integer(), nullable=True),
        sa.Column('proposed_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('changed_generation', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name='fk_phrasings_entry_id', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name='fk_phrasings_proposed_by_id'),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name='fk_phrasings_decided_by_id'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('entry_id', 'text_hash', name='uq_phrasings_entry_id'),
    )
    op.create_index('ix_phrasings_entry_id', 'phrasings', ['entry_id'])
    op.create_index('ix_phrasings_status', 'phrasings', ['status'])
    op.create_index('ix_phrasings_changed_generation', 'phrasings', ['changed_generation'])


def downgrade() -> None:
    op.drop_index('ix_phrasings_changed_generation', table_name='phrasings')
    op.drop_index('ix_phrasings_status', table_name='phrasings')
    op.drop_index('ix_phrasings_entry_id', table_name='phrasings')
    op.drop_table('phrasings')
    op.drop_index('ix_inquiries_user_recent', table_name='inquiries')
    op.drop_index('ix_inquiries_api_key_recent', table_name='inquiries')
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.drop_column('suggested_entry_ids')
