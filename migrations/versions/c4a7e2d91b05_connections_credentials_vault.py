"""connections: credentials vault

One row per provider account of a business (or of one of its staff); the secrets are one Fernet
token (app/services/credentials.py), so the table holds no plaintext.

Revision ID: c4a7e2d91b05
Revises: fd10b0c1a163
Create Date: 2026-11-27 10:47:53.873454

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4a7e2d91b05'
down_revision = 'fd10b0c1a163'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('connection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('business_id', sa.Integer(), nullable=False),
    sa.Column('staff_member_id', sa.Integer(), nullable=True),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.Enum('crm', 'calendar', 'video', 'messaging', name='connectionkind', native_enum=False, length=20), nullable=False),
    sa.Column('account_label', sa.String(length=255), nullable=False),
    sa.Column('external_account_id', sa.String(length=255), nullable=True),
    sa.Column('status', sa.Enum('connected', 'needs_reconnect', 'error', name='connectionstatus', native_enum=False, length=20), nullable=False),
    sa.Column('last_ok_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('encrypted_secrets', sa.Text(), nullable=False),
    sa.Column('token_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['business.id'], name=op.f('fk_connection_business_id_business'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_member_id'], ['staff_member.id'], name=op.f('fk_connection_staff_member_id_staff_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connection'))
    )
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connection_business_id'), ['business_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_connection_staff_member_id'), ['staff_member_id'], unique=False)


def downgrade():
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connection_staff_member_id'))
        batch_op.drop_index(batch_op.f('ix_connection_business_id'))

    op.drop_table('connection')
