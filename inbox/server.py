"""`dinplan inbox`: the inbox served by uvicorn, on the configured database."""

from __future__ import annotations

import logging

import uvicorn

from inbox.app import create_app
from storage.db import make_engine
from storage.settings import get_settings

log = logging.getLogger(__name__)


def serve(*, host: str | None = None, port: int | None = None,
          secure_cookies: bool | None = None) -> int:
    settings = get_settings()
    secure = settings.inbox_secure_cookies if secure_cookies is None else secure_cookies
    if not secure:
        log.warning("session cookies are sent over plain http: use this only on your own machine")
    engine = make_engine(settings.database_url)
    # Read the key ring and the units directory now, so a missing key fails at start, not later.
    settings.keyring()
    from storage.units import default_directory

    default_directory()
    app = create_app(engine, secure_cookies=secure)
    # Behind a TLS proxy: trust its X-Forwarded-* headers only from the loopback.
    uvicorn.run(app, host=host or settings.inbox_listen, port=port or settings.inbox_port,
                proxy_headers=True, forwarded_allow_ips="127.0.0.1", server_header=False,
                access_log=False, log_level=settings.log_level.lower())
    engine.dispose()
    return 0
