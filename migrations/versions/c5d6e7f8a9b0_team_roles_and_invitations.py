"""team: staff e-mail addresses and invitations

``staff_member.email``: the address a staff member without a login is invited at (lower-case,
unique within a business; NULLs never clash). Existing staff members get none: the owner's own
row shows the owner's login address, and the others had no address before.

``staff_invitation``: at most one per staff member (sending again replaces the nonce and the
expiry). The e-mailed link carries the nonce, signed; it works for 7 days and once.

Revision ID: c5d6e7f8a9b0
Revises: b4c5d6e7f8a9
Create Date: 2026-11-27 20:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5d6e7f8a9b0'
down_revision = 'b4c5d6e7f8a9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=255), nullable=True))
        batch_op.create_index('uq_staff_member_business_id_email', ['business_id', 'email'], unique=True)

    op.create_table(
        'staff_invitation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('business_id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=255), nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('invited_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['business_id'], ['business.id'], name=op.f('fk_staff_invitation_business_id_business'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_member.id'], name=op.f('fk_staff_invitation_staff_id_staff_member'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['invited_by_id'], ['user.id'], name=op.f('fk_staff_invitation_invited_by_id_user'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_invitation')),
        sa.UniqueConstraint('nonce', name=op.f('uq_staff_invitation_nonce')),
        sa.UniqueConstraint('staff_id', name=op.f('uq_staff_invitation_staff_id')),
    )
    with op.batch_alter_table('staff_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_invitation_business_id'), ['business_id'], unique=False)


def downgrade():
    with op.batch_alter_table('staff_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_invitation_business_id'))
    op.drop_table('staff_invitation')

    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.drop_index('uq_staff_member_business_id_email')
        batch_op.drop_column('email')
