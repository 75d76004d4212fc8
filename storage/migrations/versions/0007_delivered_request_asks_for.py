"""what a delivered request asks for, in a plain column of its own

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 01:15:00.000000

delivered_request.request holds what the person asks for (a RequestKind value, never free text,
like target_group beside it), so that the unit's list shows it without decrypting every
request's document. Rows already there are filled from their document, decrypted with the
configured key (DINPLAN_ENCRYPTION_KEY or the key file), as revision 0006 needs it too.
"""
import json
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate names sqlmodel types)

from storage.crypto import active_keyring


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Not batch mode: on SQLite that rebuilds the table, and notes and status changes refer to it.
    op.add_column('delivered_request',
                  sa.Column('request', sqlmodel.sql.sqltypes.AutoString(length=32),
                            nullable=True))
    ring = active_keyring()
    bind = op.get_bind()
    documents = bind.execute(sa.text('SELECT id, document FROM delivered_request')).all()
    for row_id, document in documents:
        asks_for = json.loads(ring.decrypt(document)).get('request')
        if asks_for is not None:
            bind.execute(sa.text('UPDATE delivered_request SET request = :request WHERE id = :id'),
                         {'request': asks_for, 'id': row_id})


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('delivered_request', 'request')
