"""Words the bot sends to a coordinating unit's staff chat: the alert of a new request.

An alert holds only the reference, the unit, the target group and the dates, never what the
person wrote, their name or their phone number: a Telegram group is no place for health data.
"""

from __future__ import annotations

from dialogs.messages import catalog, text

ALERT_MESSAGES = catalog(
    text('alert.new_request',
         'New request {reference} for {unit}. Target group: {target_group}. Received on '
         '{received_on}, answer by {deadline}. Open it in the inbox.'),
    text('alert.new_request.any_group',
         'New request {reference} for {unit}. Received on {received_on}, answer by {deadline}. '
         'Open it in the inbox.'),
)
