"""service location details: the address, who calls whom, the video provider

``service.location_detail``: what "where" means for the service's kind: in person, its address
(empty = the business's address); phone, the number clients call (empty = the business's phone);
video, a note for the client. Empty for existing services, which keeps what they showed.

``service.phone_caller``: phone services only, ``business`` ("we call you") or ``client``
("call us on ..."). Existing phone services get ``business``: clients gave a phone number when
booking, so being called back is what they expected. NULL for the other kinds.

``service.video_provider``: video services only, e.g. ``zoom``; NULL = not said.

Revision ID: d6e7f8a9b0c1
Revises: c5d6e7f8a9b0
Create Date: 2026-11-27 20:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd6e7f8a9b0c1'
down_revision = 'c5d6e7f8a9b0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location_detail', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('phone_caller', sa.Enum('business', 'client', name='phonecaller', native_enum=False, length=20), nullable=True))
        batch_op.add_column(sa.Column('video_provider', sa.String(length=40), nullable=True))

    service = sa.table('service', sa.column('location_kind', sa.String), sa.column('phone_caller', sa.String))
    op.execute(service.update().where(service.c.location_kind == 'phone').values(phone_caller='business'))


def downgrade():
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_column('video_provider')
        batch_op.drop_column('phone_caller')
        batch_op.drop_column('location_detail')
