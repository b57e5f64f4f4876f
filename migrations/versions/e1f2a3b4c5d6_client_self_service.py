"""client self-service: manage secrets, client change settings, who made each change

``booking.manage_secret``: every manage link of a booking is tied to it, so replacing it revokes
them all. Existing bookings get a random secret each (their clients' e-mails carried no manage
link yet).

``booking_settings``: whether clients may reschedule and cancel online, and until how many hours
before the start (12 by default; 0 = until the start).

``booking_event.actor_kind``: who made each change (client, owner or system). Existing rows are
filled from what they already say: a row with a user was made by someone of the business; a
booking's creation (requested/booked) by the client, who booked online; anything else without a
user (a request expiring) by Flowkey itself.

Revision ID: e1f2a3b4c5d6
Revises: d3a4b5c6e7f8
Create Date: 2026-11-28 10:00:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e1f2a3b4c5d6'
down_revision = 'd3a4b5c6e7f8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clients_can_reschedule', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('clients_can_cancel', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('client_reschedule_notice_hours', sa.Integer(), server_default='12', nullable=False))
        batch_op.add_column(sa.Column('client_cancel_notice_hours', sa.Integer(), server_default='12', nullable=False))

    # Added nullable, filled row by row (each booking its own random value), then made NOT NULL.
    op.add_column('booking', sa.Column('manage_secret', sa.String(length=64), nullable=True))
    conn = op.get_bind()
    booking = sa.table('booking', sa.column('id', sa.Integer), sa.column('manage_secret', sa.String))
    for (booking_id,) in conn.execute(sa.select(booking.c.id)).all():
        conn.execute(booking.update().where(booking.c.id == booking_id).values(manage_secret=secrets.token_urlsafe(32)))
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.alter_column('manage_secret', existing_type=sa.String(length=64), nullable=False)

    op.add_column('booking_event', sa.Column('actor_kind', sa.String(length=10), nullable=True))
    audit = sa.table(
        'booking_event', sa.column('actor_kind', sa.String), sa.column('actor_user_id', sa.Integer), sa.column('event', sa.String)
    )
    conn.execute(audit.update().where(audit.c.actor_user_id.is_not(None)).values(actor_kind='owner'))
    conn.execute(
        audit.update().where(audit.c.actor_kind.is_(None), audit.c.event.in_(['requested', 'booked'])).values(actor_kind='client')
    )
    conn.execute(audit.update().where(audit.c.actor_kind.is_(None)).values(actor_kind='system'))
    with op.batch_alter_table('booking_event', schema=None) as batch_op:
        batch_op.alter_column('actor_kind', existing_type=sa.String(length=10), nullable=False)


def downgrade():
    with op.batch_alter_table('booking_event', schema=None) as batch_op:
        batch_op.drop_column('actor_kind')

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('manage_secret')

    with op.batch_alter_table('booking_settings', schema=None) as batch_op:
        batch_op.drop_column('client_cancel_notice_hours')
        batch_op.drop_column('client_reschedule_notice_hours')
        batch_op.drop_column('clients_can_cancel')
        batch_op.drop_column('clients_can_reschedule')
