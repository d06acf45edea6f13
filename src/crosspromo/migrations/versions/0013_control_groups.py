"""control groups: campaign audiences with their arms; a business's margin

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-29 22:30:00.000000
"""

from alembic import op
import sqlalchemy as sa
import crosspromo.db


revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaign_audiences',
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('holdout_bp', sa.Integer(), nullable=False),
    sa.Column('recency_days', sa.Integer(), nullable=True),
    sa.Column('min_spend_minor', sa.Integer(), nullable=True),
    sa.Column('drawn_at', crosspromo.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', crosspromo.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_campaign_audiences_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_audiences_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_audiences')),
    sa.UniqueConstraint('campaign_id', 'business_id', name=op.f('uq_campaign_audiences_campaign_id_business_id'))
    )
    with op.batch_alter_table('campaign_audiences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_audiences_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('campaign_audience_members',
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('business_id', sa.Uuid(), nullable=False),
    sa.Column('arm', sa.Enum('treatment', 'holdout', name='arm', native_enum=False, length=9), nullable=False),
    sa.Column('drawn_at', crosspromo.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_campaign_audience_members_business_id_businesses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_audience_members_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_campaign_audience_members_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'customer_id', name=op.f('pk_campaign_audience_members'))
    )
    with op.batch_alter_table('campaign_audience_members', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_audience_members_arm', ['campaign_id', 'arm'], unique=False)

    with op.batch_alter_table('businesses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('margin_bp', sa.Integer(), server_default='3000', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('businesses', schema=None) as batch_op:
        batch_op.drop_column('margin_bp')
    with op.batch_alter_table('campaign_audience_members', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_audience_members_arm')
    op.drop_table('campaign_audience_members')
    with op.batch_alter_table('campaign_audiences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_audiences_campaign_id'))
    op.drop_table('campaign_audiences')
