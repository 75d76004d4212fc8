"""Words the bot sends by itself: the alert of a new request to a unit's staff chat, and the
notice to a citizen that the unit has received their request or changed its status.

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

# What the citizen is told when the unit confirms receipt or changes the status of their
# request: the unit, the reference and the date, nothing of what they wrote.
NOTIFY_MESSAGES = catalog(
    text('notify.received',
         '{unit} confirmed on {date} that your request {reference} has been received. '
         'Write /status to see where it stands.'),
    text('notify.in_progress',
         '{unit} started work on your request {reference} on {date}. '
         'Write /status to see where it stands.'),
    text('notify.closed',
         '{unit} closed your request {reference} on {date}. If you have questions, contact '
         'the unit.'),
)
