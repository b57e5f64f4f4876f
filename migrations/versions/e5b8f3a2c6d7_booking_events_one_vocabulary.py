"""booking events: one vocabulary for audit rows and notification types

Audit rows (``booking_event``) gain an ``event`` column, filled in for existing rows from their
statuses; in-app notifications and their preferences store the same event names instead of the
``booking_*`` type names.

Revision ID: e5b8f3a2c6d7
Revises: c4a7e2d91b05
Create Date: 2026-11-27 11:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5b8f3a2c6d7'
down_revision = 'c4a7e2d91b05'
branch_labels = None
depends_on = None

# Old notification type -> event name.
RENAMED = {
    "booking_request": "requested",
    "booking_created": "booked",
    "booking_approved": "approved",
    "booking_rejected": "rejected",
    "booking_cancelled": "cancelled",
    "booking_expired": "expired",
}

# (from_status, to_status) -> event, in the order the rules are applied; from_status None is
# a creation, from == to a reschedule (the only change that keeps the status).
AUDIT_RULES = [
    ("from_status IS NULL AND to_status = 'pending'", "requested"),
    ("from_status IS NULL", "booked"),
    ("from_status = to_status", "rescheduled"),
    ("from_status = 'pending' AND to_status = 'confirmed'", "approved"),
    ("to_status = 'rejected'", "rejected"),
    ("to_status = 'cancelled'", "cancelled"),
    ("to_status = 'expired'", "expired"),
    ("to_status = 'completed'", "completed"),
    ("to_status = 'no_show'", "no_show"),
]


def _rename(table: str, mapping: dict[str, str]) -> None:
    for old, new in mapping.items():
        op.execute(sa.text(f"UPDATE {table} SET type = :new WHERE type = :old").bindparams(old=old, new=new))


def upgrade():
    with op.batch_alter_table('booking_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event', sa.String(length=20), nullable=True))
    for condition, event in AUDIT_RULES:
        op.execute(sa.text(f"UPDATE booking_event SET event = :event WHERE event IS NULL AND {condition}").bindparams(event=event))
    op.execute(sa.text("UPDATE booking_event SET event = 'rescheduled' WHERE event IS NULL"))
    with op.batch_alter_table('booking_event', schema=None) as batch_op:
        batch_op.alter_column('event', existing_type=sa.String(length=20), nullable=False)

    _rename('booking_notification', RENAMED)
    _rename('notification_preference', RENAMED)


def downgrade():
    back = {new: old for old, new in RENAMED.items()}
    _rename('notification_preference', back)
    _rename('booking_notification', back)
    with op.batch_alter_table('booking_event', schema=None) as batch_op:
        batch_op.drop_column('event')
