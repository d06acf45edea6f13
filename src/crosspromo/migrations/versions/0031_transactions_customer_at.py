"""receipts' customer index covers the purchase time: learning reads first and last purchase
per customer from the index alone

Revision ID: 0031
Revises: 0032
"""

from alembic import op

revision = "0031"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_transactions_customer", table_name="transactions")
    op.create_index("ix_transactions_customer", "transactions", ["customer_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_transactions_customer", table_name="transactions")
    op.create_index("ix_transactions_customer", "transactions", ["customer_id"])
