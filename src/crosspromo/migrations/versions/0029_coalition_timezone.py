"""a coalition's time zone: its clearing days are local days there (the founder's zone)

Revision ID: 0029
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN with a default: both engines add it in place (no table copy on SQLite).
    with op.batch_alter_table("loyalty_coalitions") as batch:
        batch.add_column(
            sa.Column("timezone", sa.String(length=64), nullable=False, server_default="UTC")
        )
    op.execute(
        "UPDATE loyalty_coalitions SET timezone = (SELECT businesses.timezone FROM businesses"
        " WHERE businesses.id = loyalty_coalitions.founder_business_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("loyalty_coalitions") as batch:
        batch.drop_column("timezone")
