"""loyalty cards printed blank and activated at a till: loyalty_cards.activated_at

Revision ID: 0035
Revises: 0034
"""

import sqlalchemy as sa
from alembic import op

import crosspromo.db

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN needs no table copy on SQLite (cards are referenced by the append-only ledger).
    with op.batch_alter_table("loyalty_cards") as batch:
        batch.add_column(
            sa.Column("activated_at", crosspromo.db.UTCDateTime(timezone=True), nullable=True)
        )
    # Every card enrolled so far was enrolled with consent: active since then.
    op.execute("UPDATE loyalty_cards SET activated_at = consent_at")


def downgrade() -> None:
    with op.batch_alter_table("loyalty_cards") as batch:
        batch.drop_column("activated_at")
