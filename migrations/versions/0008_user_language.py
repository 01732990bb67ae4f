"""user language: the interface language kept on the account; department and category names per language

Revision ID: 0008
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0004'
branch_labels = None
depends_on = None

# The shipped defaults as they were when this revision was written (kb/owners.py keeps the live list).
DEPARTMENTS = {
    "customer-service": ("Customer service", "שירות לקוחות"), "sales": ("Sales", "מכירות"),
    "technical-support": ("Technical support", "תמיכה טכנית"), "spokesperson": ("Spokesperson's office", "דוברות"),
    "legal": ("Legal", "מחלקה משפטית"), "security": ("Information security and privacy", "אבטחת מידע ופרטיות"),
}
CATEGORIES = {
    "billing": ("Billing and payments", "חיובים ותשלומים"), "plans": ("Plans and prices", "מסלולים ומחירים"),
    "technical": ("Internet and equipment", "אינטרנט וציוד"), "outages": ("Outages and network", "תקלות ורשת"),
    "account": ("Account and service", "חשבון ושירות"), "privacy": ("Privacy and data", "פרטיות ומידע"),
    "general": ("General", "כללי"),
}


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('names', sa.JSON(), nullable=True))
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('names', sa.JSON(), nullable=True))
    # The defaults shipped with both names; give them their Hebrew one where the name was never changed.
    for table, defaults in (("departments", DEPARTMENTS), ("categories", CATEGORIES)):
        tbl = sa.table(table, sa.column("slug", sa.String), sa.column("name", sa.String),
                       sa.column("names", sa.JSON))
        for slug, (english, hebrew) in defaults.items():
            op.execute(tbl.update().where(tbl.c.slug == slug, tbl.c.name == english)
                       .values(names={"he": hebrew, "en": english}))


def downgrade() -> None:
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_column('names')
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_column('names')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('language')
