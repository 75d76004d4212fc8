"""The smallest PTB bot: echoes text, long polling. `bench.startup` times its start-up beside
Din plan's. Run as a script (no project imports): BOT_TOKEN and BOT_API_URL in the environment."""

import logging
import os

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("httpx").setLevel(logging.WARNING)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None and update.effective_message.text:
        await update.effective_message.reply_text(update.effective_message.text)


def main() -> None:
    app = ApplicationBuilder().token(os.environ["BOT_TOKEN"]).base_url(
        os.environ["BOT_API_URL"]).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling()


if __name__ == "__main__":
    main()
