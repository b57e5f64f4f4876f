"""availability versions on business and staff_member

Cached availability is keyed on these counters: ``staff_member.availability_version`` goes up in
the same transaction as any change to that staff member's bookings, and
``business.availability_version`` with any change to the business's settings, services, staff,
hours or date overrides (``app/services/availability_versions.py``). Existing rows start at 0,
which no cache entry carries yet.

Revision ID: d3a4b5c6e7f8
Revises: c7e8f9a0b1d2
Create Date: 2026-11-27 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3a4b5c6e7f8'
down_revision = 'c7e8f9a0b1d2'
branch_labels = None
depends_on = None

TABLES = ('business', 'staff_member')


def upgrade():
    # A NOT NULL column with a server default: existing rows get 0 without a rewrite on
    # PostgreSQL (11+) and without a table rebuild on SQLite (a plain ADD COLUMN).
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('availability_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('availability_version')
