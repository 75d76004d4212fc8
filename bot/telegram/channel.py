"""The channel name Telegram chats are stored under (the terminal chat's is "terminal").

A module of its own: the workers that only need the name (retention, the notifier) need not
import the Telegram conversation and everything it brings."""

CHANNEL = "telegram"
