"""clicks: the referral links' click log

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import crosspromo.db


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('offer_clicks',
    sa.Column('offer_id', sa.Uuid(), nullable=False),
    sa.Column('code_id', sa.Uuid(), nullable=False),
    sa.Column('address_hash', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.Column('accept_language', sa.String(length=100), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('at', crosspromo.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['code_id'], ['offer_codes.id'], name=op.f('fk_offer_clicks_code_id_offer_codes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_offer_clicks_offer_id_offers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_clicks')),
    sa.UniqueConstraint('code_id', 'address_hash', 'paid_on', name=op.f('uq_offer_clicks_code_id_address_hash_paid_on'))
    )
    with op.batch_alter_table('offer_clicks', schema=None) as batch_op:
        batch_op.create_index('ix_offer_clicks_code_at', ['code_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_offer_clicks_offer_id'), ['offer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('offer_clicks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_clicks_offer_id'))
        batch_op.drop_index('ix_offer_clicks_code_at')

    op.drop_table('offer_clicks')
