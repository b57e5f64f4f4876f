"""branding: business logo and the sites allowed to frame the public pages

``business_logo``: one row per business with a logo, the re-encoded image (PNG or JPEG, at most
512 px a side, no metadata) and its digest; kept out of ``business`` so that loading a business
never reads the image.

``business.logo_digest``: the current logo's digest (its URL carries it), NULL = no logo.
``business.embed_origins``: a JSON list of the origins allowed to frame the booking pages,
NULL = any site. Existing businesses get NULL for both: no logo, any site.

Revision ID: f2b3c4d5e6a7
Revises: e1f2a3b4c5d6
Create Date: 2026-11-28 12:00:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'f2b3c4d5e6a7'
down_revision = 'e1f2a3b4c5d6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('business', schema=None) as batch_op:
        batch_op.add_column(sa.Column('logo_digest', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('embed_origins', sa.JSON(), nullable=True))

    op.create_table(
        'business_logo',
        sa.Column('business_id', sa.Integer(), nullable=False),
        sa.Column('content_type', sa.String(length=20), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('digest', sa.String(length=16), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['business_id'], ['business.id'], name=op.f('fk_business_logo_business_id_business'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('business_id', name=op.f('pk_business_logo')),
    )


def downgrade():
    op.drop_table('business_logo')
    with op.batch_alter_table('business', schema=None) as batch_op:
        batch_op.drop_column('embed_origins')
        batch_op.drop_column('logo_digest')
