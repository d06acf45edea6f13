"""rate limit counters shared by every worker process

Revision ID: 0016
Revises: 0013
Create Date: 2026-11-29 22:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_limits',
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('hits', sa.BigInteger(), nullable=False),
    sa.Column('expires_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limits'))
    )
    op.create_index(op.f('ix_rate_limits_expires_ms'), 'rate_limits', ['expires_ms'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_rate_limits_expires_ms'), table_name='rate_limits')
    op.drop_table('rate_limits')
