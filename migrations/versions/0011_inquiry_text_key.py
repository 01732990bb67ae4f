"""inquiry text key: a repeated message is found by its hash, not by reading every text the agent sent

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

BATCH = 2000


def _key(text: str) -> str:
    # kb.models.text_key as it was when this revision was written.
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def upgrade() -> None:
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_key', sa.String(length=16), nullable=True))
    bind = op.get_bind()
    inquiries = sa.table('inquiries', sa.column('id', sa.Integer), sa.column('text', sa.Text),
                         sa.column('text_key', sa.String))
    last = 0
    while True:
        rows = bind.execute(sa.select(inquiries.c.id, inquiries.c.text).where(inquiries.c.id > last)
                            .order_by(inquiries.c.id).limit(BATCH)).all()
        if not rows:
            break
        bind.execute(inquiries.update().where(inquiries.c.id == sa.bindparam('row_id'))
                     .values(text_key=sa.bindparam('key')),
                     [{'row_id': row.id, 'key': _key(row.text or '')} for row in rows])
        last = rows[-1].id
    op.drop_index('ix_inquiries_api_key_recent', table_name='inquiries')
    op.drop_index('ix_inquiries_user_recent', table_name='inquiries')
    op.create_index('ix_inquiries_api_key_repeat', 'inquiries', ['api_key_id', 'text_key', 'created_at'])
    op.create_index('ix_inquiries_user_repeat', 'inquiries', ['user_id', 'text_key', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_inquiries_user_repeat', table_name='inquiries')
    op.drop_index('ix_inquiries_api_key_repeat', table_name='inquiries')
    op.create_index('ix_inquiries_user_recent', 'inquiries', ['user_id', 'created_at'])
    op.create_index('ix_inquiries_api_key_recent', 'inquiries', ['api_key_id', 'created_at'])
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.drop_column('text_key')
