"""phrasing picks: which inquiry picked which lower suggestion, so one pick counts once

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'phrasing_picks',
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('inquiry_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name='fk_phrasing_picks_entry_id', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('entry_id', 'inquiry_id'),
    )


def downgrade() -> None:
    op.drop_table('phrasing_picks')
