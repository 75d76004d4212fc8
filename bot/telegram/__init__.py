"""The Telegram bot: the same dialog as the terminal chat, with controls made for a phone.

Where to start: `app.py` builds and runs the Application. `handlers.py` turns updates into
dialog events; `conversation.py` is its database side (claim the update, read the screen, run the
turn through `DialogRunner`). `replies.py` shows a turn, using `formatting.py` (HTML escaping,
splitting, joining) and `keyboards.py` (every keyboard, and callback data that can tell a stale
button). `ordering.py` keeps each chat's updates in order, `retrying.py` survives flood limits
and network trouble (`errors.py`: which errors may be retried, without loading telegram.ext),
`jobs.py` runs the background workers (delivery, notifier, retention) and the bot's blocking
chores on the job queue, `menu.py` sets the command menus, `documents.py` makes the person's copy
of a sent draft, `channel.py` names the channel, `config.py` checks the settings, `texts.py`
holds the bot's own messages.
"""

# Importing the package registers the bot's messages with the catalogs.
from bot.telegram import texts as texts
