"""what providers reported per delivery: delivered, bounced, complained

Revision ID: 0027
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

import crosspromo.db

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column("outcome_at", crosspromo.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("outcome_at")
        batch.drop_column("outcome")
