"""booking idempotency keys: their own table, with the request's fingerprint and an age

A key used to be a column of ``booking`` (unique per business, kept forever) and a repeat with any
body replayed the booking. Keys move to ``booking_idempotency_key`` with the SHA-256 of the
request they came with and their creation time, so a repeat with another body is refused and a
key stops counting after 24 hours (the daily cleanup deletes it).

Keys of the last 24 hours are copied with an empty fingerprint, which no request matches: a
retry across the deploy is refused rather than replayed to someone who may not have made it.
Older keys have expired and are dropped. Downgrade copies the keys that remain back onto their
bookings.

Revision ID: b1d2f3a4c5e6
Revises: e5b8f3a2c6d7
Create Date: 2026-11-27 12:00:00

"""
from datetime import datetime, timedelta, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1d2f3a4c5e6'
down_revision = 'e5b8f3a2c6d7'
branch_labels = None
depends_on = None


# SQLite rebuilds a table to alter it (batch mode), and dropping the old ``booking`` would cascade
# to key rows that reference it: the keys are read before ``booking`` changes and written after.
INSERT_KEY = sa.text(
    "INSERT INTO booking_idempotency_key (business_id, key, fingerprint, booking_id, created_at) "
    "VALUES (:business_id, :key, '', :booking_id, :created_at)"
)


def upgrade():
    since = datetime.now(timezone.utc) - timedelta(hours=24)
    if op.get_bind().dialect.name == 'sqlite':
        since = since.replace(tzinfo=None)  # stored naive UTC there (app.models.base.UTCDateTime)
    recent = op.get_bind().execute(sa.text(
        "SELECT business_id, idempotency_key AS key, id AS booking_id, created_at FROM booking "
        "WHERE idempotency_key IS NOT NULL AND created_at > :since"
    ).bindparams(since=since)).mappings().all()

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_constraint('uq_booking_business_id', type_='unique')
        batch_op.drop_column('idempotency_key')

    op.create_table('booking_idempotency_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('business_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_booking_idempotency_key_booking_id_booking'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['business_id'], ['business.id'], name=op.f('fk_booking_idempotency_key_business_id_business'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_idempotency_key')),
    sa.UniqueConstraint('business_id', 'key', name=op.f('uq_booking_idempotency_key_business_id'))
    )
    with op.batch_alter_table('booking_idempotency_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_idempotency_key_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index('ix_booking_idempotency_key_created_at', ['created_at'], unique=False)

    for row in recent:
        op.execute(INSERT_KEY.bindparams(**row))


def downgrade():
    keys = op.get_bind().execute(sa.text("SELECT booking_id, key FROM booking_idempotency_key")).mappings().all()

    with op.batch_alter_table('booking_idempotency_key', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_idempotency_key_created_at')
        batch_op.drop_index(batch_op.f('ix_booking_idempotency_key_booking_id'))
    op.drop_table('booking_idempotency_key')

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint('uq_booking_business_id', ['business_id', 'idempotency_key'])
    for row in keys:
        op.execute(sa.text("UPDATE booking SET idempotency_key = :key WHERE id = :booking_id").bindparams(**row))
