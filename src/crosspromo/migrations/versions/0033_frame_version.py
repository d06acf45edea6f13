"""one row stamped whenever businesses or their customers change (suggestions' cached frame)

Revision ID: 0033
Revises: 0032
"""

import uuid

import sqlalchemy as sa
from alembic import op

import crosspromo.db

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "frame_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.Uuid(), nullable=False),
        sa.Column("changed_at", crosspromo.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frame_version")),
    )
    # The one row exists from the start: writers only ever update it.
    op.bulk_insert(
        table, [{"id": 1, "stamp": uuid.uuid4(), "changed_at": crosspromo.db.utcnow()}]
    )


def downgrade() -> None:
    op.drop_table("frame_version")
