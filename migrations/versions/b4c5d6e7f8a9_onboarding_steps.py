"""onboarding steps (placeholder: filled in by the wizard work)

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
    pass


def downgrade():
    pass
