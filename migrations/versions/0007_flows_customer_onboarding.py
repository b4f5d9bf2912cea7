"""flows: customer onboarding is opened per flow

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

Every flow starts closed to customers, existing ones included: which of them were meant for
customers is a decision for their admins (Designs -> the flow -> Customer onboarding), and the
demo loader opens its own flow again.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('flows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_onboarding', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('flows', schema=None) as batch_op:
        batch_op.drop_column('customer_onboarding')
