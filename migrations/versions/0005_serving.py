"""API rate-limit counters shared by workers; PostgreSQL announces every KB generation change

Revision ID: 0005
Revises: 0007
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0007'
branch_labels = None
depends_on = None

# Workers LISTEN on this channel (suggest/watch.py); the trigger fires for any writer of kb_state, so no code path
# that moves the generation can forget to announce it. The payload is the new generation.
NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION vetted_kb_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('vetted_kb', NEW.generation::text);
    RETURN NEW;
END
$$ LANGUAGE plpgsql
"""
NOTIFY_TRIGGER = """
CREATE TRIGGER kb_state_changed AFTER INSERT OR UPDATE OF generation ON kb_state
FOR EACH ROW EXECUTE FUNCTION vetted_kb_changed()
"""


def upgrade() -> None:
    op.create_table('api_rate_windows',
    sa.Column('key_id', sa.Integer(), nullable=False),
    sa.Column('minute', sa.Integer(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key_id', 'minute')
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(NOTIFY_FUNCTION)
        op.execute(NOTIFY_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS kb_state_changed ON kb_state')
        op.execute('DROP FUNCTION IF EXISTS vetted_kb_changed()')
    op.drop_table('api_rate_windows')
