"""delivered_request loses status and acknowledged_at, written and never read

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 04:15:00.000000

A request's status is the newest of its request_status_change rows, and its acknowledgement
(when, by whom) the first of them: the two columns only repeated that, and could differ from it.
opened_at stays (the unit's list marks the unopened). The downgrade adds them back and fills
them from what is known: 'acknowledged' at the first status change, else 'opened' once opened,
else 'new'.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate names sqlmodel types)


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# Never rebuild the table on SQLite (which drops and copies it): internal_note and
# request_status_change refer to it ON DELETE CASCADE, and with foreign keys on, dropping it
# would delete them. SQLite (3.35 and later) drops and adds these plain columns in place.
RECREATE = 'never'

FIRST_CHANGE = ('SELECT min(c.at) FROM request_status_change c '
                'WHERE c.delivered_request_id = delivered_request.id')
CHANGED = 'SELECT delivered_request_id FROM request_status_change'


def _columns_can_be_dropped_in_place() -> None:
    """Stop before any change, with what to do, on a SQLite too old for DROP COLUMN."""
    import sqlite3

    if op.get_bind().dialect.name == 'sqlite' and sqlite3.sqlite_version_info < (3, 35):
        raise RuntimeError(
            f'revision 0008 needs SQLite 3.35 or later to drop columns; this Python has '
            f'{sqlite3.sqlite_version}. Use a Python built with a newer SQLite (Debian 12 '
            f'has 3.40), or PostgreSQL.')


def upgrade() -> None:
    """Upgrade schema."""
    _columns_can_be_dropped_in_place()
    with op.batch_alter_table('delivered_request', schema=None, recreate=RECREATE) as batch_op:
        batch_op.drop_column('acknowledged_at')
        batch_op.drop_column('status')


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('delivered_request', schema=None, recreate=RECREATE) as batch_op:
        batch_op.add_column(sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16),
                                      server_default='new', nullable=False))
        batch_op.add_column(sa.Column('acknowledged_at', sa.DateTime(timezone=True),
                                      nullable=True))
    op.execute(f"UPDATE delivered_request SET status = 'acknowledged', "
               f"acknowledged_at = ({FIRST_CHANGE}) WHERE id IN ({CHANGED})")
    op.execute("UPDATE delivered_request SET status = 'opened' "
               "WHERE status = 'new' AND opened_at IS NOT NULL")
