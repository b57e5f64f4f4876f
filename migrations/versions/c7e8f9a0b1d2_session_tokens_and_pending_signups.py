"""session tokens and pending sign-ups

``user.session_token`` is part of what a login session stores, so replacing it (log-out,
password change) ends every session of that user, including copied cookies. Existing users get
a random token each; sessions from before this revision stored a bare id and are no longer
accepted (everyone logs in once more).

``pending_signup`` holds a sign-up until its e-mail address is confirmed through the link sent
to it (the password only as a hash, never in the link).

Revision ID: c7e8f9a0b1d2
Revises: b1d2f3a4c5e6
Create Date: 2026-11-27 12:30:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7e8f9a0b1d2'
down_revision = 'b1d2f3a4c5e6'
branch_labels = None
depends_on = None


def _restore_email_index():
    # On SQLite a batch operation rebuilds the table from reflection, which skips expression
    # indexes: the case-insensitive unique e-mail index must be created again.
    if op.get_bind().dialect.name == 'sqlite':
        op.create_index('uq_user_email_lower', 'user', [sa.text('lower(email)')], unique=True)


def upgrade():
    op.add_column('user', sa.Column('session_token', sa.String(length=64), nullable=True))

    conn = op.get_bind()
    user = sa.table('user', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    for (user_id,) in conn.execute(sa.select(user.c.id)).all():
        conn.execute(user.update().where(user.c.id == user_id).values(session_token=secrets.token_urlsafe(16)))

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)
    _restore_email_index()

    op.create_table(
        'pending_signup',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=255), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('business_name', sa.String(length=120), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_signup')),
        sa.UniqueConstraint('nonce', name=op.f('uq_pending_signup_nonce')),
    )
    with op.batch_alter_table('pending_signup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_signup_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('pending_signup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_signup_expires_at'))
    op.drop_table('pending_signup')

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_token')
    _restore_email_index()
