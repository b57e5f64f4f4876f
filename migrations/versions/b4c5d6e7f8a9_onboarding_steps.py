"""onboarding wizard: saved steps, automation switches, e-mail sender name and reply-to

``onboarding_step``: the set-up wizard's answers per business and step (non-secret only; the
secrets are Connection rows in the vault), and its checklist marks. ``automation_rule``: the
automations a business switched on (confirmation, reminders, no-show follow-up, review request).
``business.email_sender_name`` / ``email_reply_to``: the From display name and Reply-To of booking
e-mails to clients; existing businesses get none (the business name and contact e-mail, as before).

Existing businesses start with no step rows: the wizard opens at its first step for them and the
overview shows the checklist until its items are done.

Revision ID: b4c5d6e7f8a9
Revises: a3c4d5e6f7b8
Create Date: 2026-11-27 20:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b4c5d6e7f8a9'
down_revision = 'a3c4d5e6f7b8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'onboarding_step',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('business_id', sa.Integer(), nullable=False),
        sa.Column('step', sa.String(length=20), nullable=False),
        sa.Column('status', sa.Enum('pending', 'done', 'skipped', name='stepstatus', native_enum=False, length=10), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['business_id'], ['business.id'], name=op.f('fk_onboarding_step_business_id_business'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_onboarding_step')),
        sa.UniqueConstraint('business_id', 'step', name=op.f('uq_onboarding_step_business_id')),
    )
    with op.batch_alter_table('onboarding_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_onboarding_step_business_id'), ['business_id'], unique=False)

    op.create_table(
        'automation_rule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('business_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['business_id'], ['business.id'], name=op.f('fk_automation_rule_business_id_business'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_automation_rule')),
        sa.UniqueConstraint('business_id', 'kind', name=op.f('uq_automation_rule_business_id')),
    )
    with op.batch_alter_table('automation_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_automation_rule_business_id'), ['business_id'], unique=False)

    with op.batch_alter_table('business', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_sender_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('email_reply_to', sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table('business', schema=None) as batch_op:
        batch_op.drop_column('email_reply_to')
        batch_op.drop_column('email_sender_name')

    with op.batch_alter_table('automation_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_automation_rule_business_id'))
    op.drop_table('automation_rule')

    with op.batch_alter_table('onboarding_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_onboarding_step_business_id'))
    op.drop_table('onboarding_step')
