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


FIRST_CHANGE = ('SELECT min(c.at) FROM request_status_change c '
                'WHERE c.delivered_request_id = delivered_request.id')
CHANGED = 'SELECT delivered_request_id FROM request_status_change'


# Not batch mode, which on SQLite rebuilds the table and drops the old one: internal_note and
# request_status_change refer to it ON DELETE CASCADE, and with foreign keys on, the drop would
# delete them. SQLite drops and adds these plain columns in place (3.35 and later; env.py checks).
def upgrade() -> None:
    """Upgrade schema."""
    op.drop_column('delivered_request', 'acknowledged_at')
    op.drop_column('delivered_request', 'status')


def downgrade() -> None:
    """Downgrade schema."""
    op.add_column('delivered_request', sa.Column(
        'status', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='new',
        nullable=False))
    op.add_column('delivered_request', sa.Column(
        'acknowledged_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(f"UPDATE delivered_request SET status = 'acknowledged', "
               f"acknowledged_at = ({FIRST_CHANGE}) WHERE id IN ({CHANGED})")
    op.execute("UPDATE delivered_request SET status = 'opened' "
               "WHERE status = 'new' AND opened_at IS NOT NULL")
