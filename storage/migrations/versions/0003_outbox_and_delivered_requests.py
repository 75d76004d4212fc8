"""outbox and delivered_request: requests on their way to a unit, and the unit's inbox rows

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:13:37.258555

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate names sqlmodel types)


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('delivered_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('municipality_number', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('target_group', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('district', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer_deadline', sa.Date(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),  # storage.crypto.EncryptedText
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('outbox_id')
    )
    with op.batch_alter_table('delivered_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivered_request_reference'), ['reference'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivered_request_submission_id'), ['submission_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivered_request_unit_id'), ['unit_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('target_group', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('district', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('alerted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue_logged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('submission_id', 'unit_id', name='uq_outbox_submission_unit')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_submission_id'), ['submission_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_submission_id'))
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox')
    with op.batch_alter_table('delivered_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivered_request_unit_id'))
        batch_op.drop_index(batch_op.f('ix_delivered_request_submission_id'))
        batch_op.drop_index(batch_op.f('ix_delivered_request_reference'))

    op.drop_table('delivered_request')
