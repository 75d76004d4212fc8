"""encrypt names, phone numbers and answers at rest; the privacy_event table

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 19:05:00.000000

The free-text columns of draft_plan and answer become EncryptedText (TEXT holding
`enc1:<key id>:...`), and the rows already there are encrypted with the configured key
(DINPLAN_ENCRYPTION_KEY or the key file; in development the key file is made on first use).
The downgrade decrypts them again.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate names sqlmodel types)

from storage.crypto import active_keyring, transform_values


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# table -> column -> its length before (None: unbounded VARCHAR)
FREE_TEXT = {
    'draft_plan': {'person_name': None, 'coordinator_wish': None, 'contact_name': None,
                   'phone': 32, 'reach_time': None},
    'answer': {'text': None},
}


def _retype(table: str, column: str, new_type: sa.types.TypeEngine, new_sql: str,
            old_type: sa.types.TypeEngine) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # Not batch mode: that rebuilds the table and drops the old one, and with foreign keys
        # on, SQLite cascades the drop of draft_plan to every answer and submission. Since 3.35
        # a column can be swapped in place instead.
        op.execute(f'ALTER TABLE {table} RENAME COLUMN {column} TO {column}__old')
        op.execute(f'ALTER TABLE {table} ADD COLUMN {column} {new_sql}')
        op.execute(f'UPDATE {table} SET {column} = {column}__old')
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}__old')
    else:
        op.alter_column(table, column, type_=new_type, existing_type=old_type,
                        existing_nullable=True)


def _old_type(length: int | None) -> sa.types.TypeEngine:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('privacy_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('what', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    for table, columns in FREE_TEXT.items():
        for column, length in columns.items():
            _retype(table, column, sa.Text(), 'TEXT', _old_type(length))
    ring = active_keyring()

    def encrypt(value: str) -> str | None:
        return None if ring.can_decrypt(value) else ring.encrypt(value)

    for table, columns in FREE_TEXT.items():
        transform_values(op.get_bind(), table, list(columns), encrypt)


def downgrade() -> None:
    """Downgrade schema."""
    ring = active_keyring()

    def decrypt(value: str) -> str | None:
        return ring.decrypt(value) if value.startswith('enc1:') else None

    for table, columns in FREE_TEXT.items():
        transform_values(op.get_bind(), table, list(columns), decrypt)
    for table, columns in FREE_TEXT.items():
        for column, length in columns.items():
            sql = f'VARCHAR({length})' if length else 'VARCHAR'
            _retype(table, column, _old_type(length), sql, sa.Text())
    op.drop_table('privacy_event')
