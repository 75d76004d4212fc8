"""What only the Telegram bot says: notices about Telegram itself and the command menu.

Whole sentences with named placeholders, like every message; people see the nb or nn catalog.
"""

from __future__ import annotations

from dialogs.messages import catalog, text

TELEGRAM_MESSAGES = catalog(
    text('telegram.group_chat',
         'I only talk in private chats, so that what you write stays between you and me. '
         'Press the button to write to me.'),
    text('telegram.open_private_chat', 'Write to Din plan'),
    text('telegram.stale_button', 'This choice is no longer active.'),
    text('telegram.stale_button.repeat',
         'That choice is no longer active. Here is where you are now.'),
    text('telegram.edited_message',
         'Changing a message you have sent does not change your answer. Write /endre to look '
         'over and change your answers, or /tilbake to go one step back.'),
    text('telegram.chosen', 'Your choice: {label}'),
    # NOTE: The label of Telegram's button that shares the person's own phone number.
    text('telegram.share_phone', 'Share my phone number'),
    text('telegram.document.caption', 'Your own copy of what you sent.'),
    text('telegram.document.heading', 'Din plan: copy of request {reference}, sent {sent_on}'),
    # NOTE: Descriptions in Telegram's command menu; at most a few words each.
    text('telegram.command.start', 'Start or continue'),
    text('telegram.command.help', 'Show the commands'),
    text('telegram.command.back', 'Go one step back'),
    text('telegram.command.skip', 'Skip the question'),
    text('telegram.command.edit', 'Look over and change the answers'),
    text('telegram.command.language', 'Switch between Bokmål and Nynorsk'),
    text('telegram.command.about', 'About individual plan and coordinator'),
    text('telegram.command.rights', 'Your rights'),
    text('telegram.command.status', 'Status of the request'),
    text('telegram.command.cancel', 'Cancel and delete the draft'),
    text('telegram.command.erase', 'Delete everything about you'),
    text('telegram.command.my_data', 'See what is stored about you'),
    text('telegram.command.withdraw_consent', 'Withdraw your consent'),
)
