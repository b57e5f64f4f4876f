"""business country (for local phone numbers) and old slugs that redirect

``business.country``: ISO 3166-1 alpha-2; clients may write phone numbers as they are dialled
there. Existing businesses get the country of their phone number when it is written with its
country code, else that of their time zone (CLDR's zone territories, as Babel ships them), else
none (a zone such as UTC names no country; the booking page then asks for the country code).

``business_slug_history``: slugs a business used before; old links answer 301 to the current
slug, and no other business may take one while it is there. Starts empty.

Revision ID: a3c4d5e6f7b8
Revises: f2b3c4d5e6a7
Create Date: 2026-11-28 12:30:00

"""
from alembic import op
import phonenumbers
import sqlalchemy as sa
from babel.core import get_global


# revision identifiers, used by Alembic.
revision = 'a3c4d5e6f7b8'
down_revision = 'f2b3c4d5e6a7'
branch_labels = None
depends_on = None


def _country(phone, zone):
    """The phone number's country (only when written with ``+``), else the time zone's, else None.
    A copy as of this revision, so that later changes to the app's guess do not change it."""
    phone = (phone or '').strip()
    if phone.startswith('+'):
        try:
            number = phonenumbers.parse(phone, None)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and phonenumbers.is_valid_number(number):
            region = phonenumbers.region_code_for_number(number)
            if region in phonenumbers.SUPPORTED_REGIONS:
                return region
    territories = get_global('zone_territories')
    country = territories.get(zone or '') or territories.get(get_global('zone_aliases').get(zone or '', ''))
    return country if country in phonenumbers.SUPPORTED_REGIONS else None


def upgrade():
    op.add_column('business', sa.Column('country', sa.String(length=2), nullable=True))
    conn = op.get_bind()
    business = sa.table(
        'business', sa.column('id', sa.Integer), sa.column('phone', sa.String), sa.column('timezone', sa.String),
        sa.column('country', sa.String),
    )
    for business_id, phone, zone in conn.execute(sa.select(business.c.id, business.c.phone, business.c.timezone)).all():
        country = _country(phone, zone)
        if country:
            conn.execute(business.update().where(business.c.id == business_id).values(country=country))

    op.create_table(
        'business_slug_history',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('business_id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['business_id'], ['business.id'], name=op.f('fk_business_slug_history_business_id_business'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_business_slug_history')),
        sa.UniqueConstraint('slug', name=op.f('uq_business_slug_history_slug')),
    )
    with op.batch_alter_table('business_slug_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_business_slug_history_business_id'), ['business_id'], unique=False)


def downgrade():
    with op.batch_alter_table('business_slug_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_business_slug_history_business_id'))
    op.drop_table('business_slug_history')

    with op.batch_alter_table('business', schema=None) as batch_op:
        batch_op.drop_column('country')
