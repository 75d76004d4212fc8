"""what a delivered request asks for, in a plain column of its own

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 01:15:00.000000

delivered_request.request holds what the person asks for (a RequestKind value, never free text,
like target_group beside it), so that the unit's list shows it without decrypting every
request's document. Rows already there are filled from their document, decrypted with the
configured key (DINPLAN_ENCRYPTION_KEY or the key file), as revision 0006 needs it too; a
document that cannot be read leaves its row NULL (the list shows no label) and is counted in
the log.
"""
import json
import logging
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate names sqlmodel types)

from storage.crypto import Keyring, active_keyring


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# RequestKind's values when this revision was written; anything else is left NULL.
REQUEST_KINDS = {'plan_and_coordinator', 'coordinator_only', 'not_sure'}
log = logging.getLogger(f'alembic.{__name__}')


def _asks_for(ring: Keyring, document: str) -> str | None:
    """What a stored document says is asked for; None if it cannot be read or says nothing
    known (the list then shows no label: the document itself is still there)."""
    clear = ring.decrypt_or_none(document)
    try:
        data = json.loads(clear) if clear is not None else None
    except ValueError:
        return None
    asks_for = data.get('request') if isinstance(data, dict) else None
    return asks_for if asks_for in REQUEST_KINDS else None


def upgrade() -> None:
    """Upgrade schema."""
    # Read first, then change the schema: on SQLite the ADD COLUMN is committed at once, and a
    # failure after it would leave the column without the revision.
    ring = active_keyring()
    bind = op.get_bind()
    documents = bind.execute(sa.text('SELECT id, document FROM delivered_request')).all()
    filled = {row_id: _asks_for(ring, document) for row_id, document in documents}
    unread = sum(1 for asks_for in filled.values() if asks_for is None)
    if unread:  # how many only: never what they hold
        log.warning('%d delivered request(s) left without what they ask for: not readable '
                    'with the configured key, or no known request kind', unread)
    # Not batch mode: on SQLite that rebuilds the table, and notes and status changes refer to it.
    op.add_column('delivered_request',
                  sa.Column('request', sqlmodel.sql.sqltypes.AutoString(length=32),
                            nullable=True))
    for row_id, asks_for in filled.items():
        if asks_for is not None:
            bind.execute(sa.text('UPDATE delivered_request SET request = :request WHERE id = :id'),
                         {'request': asks_for, 'id': row_id})


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('delivered_request', 'request')
