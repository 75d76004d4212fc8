"""The inbox in a real browser: Debian's Chromium driven by Playwright, against `dinplan inbox`
started as a subprocess on 127.0.0.1 (stopped by its PID), on a temporary SQLite database.

A citizen sends a request through the dialog (`DialogRunner`), delivery puts it in Gulen's
inbox, a new staff member sets up their account from the link `dinplan staff add` printed, logs
in with TOTP, opens the request, downloads the PDF and acknowledges receipt; the citizen's side
then has the acknowledgement. The list and the request are saved as screenshots in the test's
temporary folder; with DINPLAN_UPDATE_SCREENSHOTS=1 also in docs/ (the README shows them).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.runner import DialogRunner
from dialogs.draft import Language
from dialogs.events import Command, CommandEvent
from dialogs.review import format_reference
from storage.crypto import Keyring, active_keyring, new_key, parse_key, use_keyring
from storage.db import make_engine, unit_of_work
from storage.migrate import upgrade
from storage.models import DeliveredRequest
from storage.staff import AuditEntry, RequestStatus, request_status

from .conftest import ANSWERS, GULEN, NOT_SHARED, PASSWORD, Citizen, deliver

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
UPDATE_SCREENSHOTS = "DINPLAN_UPDATE_SCREENSHOTS"  # =1: the screenshots replace those in docs/
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
START_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dinplan() -> list[str]:
    script = Path(sys.executable).with_name("dinplan")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


@pytest.fixture
def keyring() -> Iterator[str]:
    """A fresh encryption key, shared by this process and the server it starts."""
    previous = active_keyring()
    key = new_key()
    use_keyring(Keyring([parse_key(key)]))
    yield key
    use_keyring(previous)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path / 'inbox.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


@pytest.fixture
def server(database: tuple[str, Engine], keyring: str, tmp_path: Path
           ) -> Iterator[tuple[str, dict[str, str]]]:
    """`dinplan inbox` on a free port; its base URL and the environment it runs with."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DINPLAN_DATABASE_URL": database[0], "DINPLAN_ENCRYPTION_KEY": keyring,
           "DINPLAN_INBOX_URL": base, "DINPLAN_LOG_LEVEL": "WARNING"}
    log = (tmp_path / "inbox.log").open("wb")
    process = subprocess.Popen([*_dinplan(), "inbox", "--host", "127.0.0.1", "--port", str(port)],
                               env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, (tmp_path / "inbox.log").read_text()
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "dinplan inbox did not start"
            time.sleep(0.1)
        yield base, env
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(10)
        log.close()


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800},
                                      locale="nn-NO", accept_downloads=True)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def _screenshot(page: Page, folder: Path, name: str) -> None:
    """The whole page as `name` in `folder`, and in docs/ when asked to update those."""
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), path
    if os.environ.get(UPDATE_SCREENSHOTS) == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(path, DOCS / name)


def _age(engine: Engine, reference: str, days: int) -> None:
    """Make a request look as if it came `days` ago (for a list worth a screenshot)."""
    from storage.exports import answer_deadline

    with unit_of_work(engine) as session:
        row = session.exec(select(DeliveredRequest).where(
            DeliveredRequest.reference == reference)).one()
        row.received_at = row.submitted_at = datetime.now(UTC) - timedelta(days=days)
        row.answer_deadline = answer_deadline(row.submitted_at)
        session.add(row)


@pytest.fixture
def citizen(database: tuple[str, Engine], keyring: str) -> Citizen:
    """A citizen in Gulen who has sent a request; two older ones are in the inbox already.

    (Before the browser starts: Playwright's sync API keeps an event loop running, and the
    delivery worker runs its own.)
    """
    _url, engine = database
    runner = DialogRunner(engine)
    older = [Citizen(runner, f"older-{n}", Language.NYNORSK, "Gulen").send_request()
             for n in range(2)]
    citizen = Citizen(runner, "ingrid-dotter", Language.NYNORSK, "Gulen")
    citizen.send_request()
    deliver(engine)
    _age(engine, older[0], days=40)
    _age(engine, older[1], days=12)
    return citizen


def _code_of_the_step_before(totp: pyotp.TOTP) -> str:
    """The code of the 30 s step before this one, taken where the server still accepts it: not in
    a step's last seconds, or the server checks it two steps on (once seen in CI)."""
    left = totp.interval - time.time() % totp.interval
    if left < 5:
        time.sleep(left + 0.1)
    return totp.at(datetime.now(UTC) - timedelta(seconds=totp.interval))


def test_staff_open_download_and_acknowledge_in_a_browser(
        database: tuple[str, Engine], citizen: Citizen, server: tuple[str, dict[str, str]],
        page: Page, tmp_path: Path) -> None:
    _url, engine = database
    base, env = server
    reference = citizen.reference

    # The administrator adds a staff member; the set-up link is all they get.
    added = subprocess.run([*_dinplan(), "staff", "add", "--unit", GULEN, "--name", "Siri Sæbø",
                            "--lang", "nn"], env=env, cwd=ROOT, capture_output=True, text=True,
                           timeout=60, check=True)
    link = re.search(rf"{re.escape(base)}/setup/\S+", added.stdout)
    assert link is not None, added.stdout

    page.goto(link.group())
    expect(page.locator("h1")).to_have_text("Kom i gang")
    totp = pyotp.TOTP(page.locator("#secret").inner_text().strip())
    assert (page.locator("#otpauth").get_attribute("href") or "").startswith("otpauth://totp/")
    page.fill("#password", PASSWORD)
    page.fill("#repeated", PASSWORD)
    # The code of the step before (still accepted), so log-in can use the current one.
    page.fill("#code", _code_of_the_step_before(totp))
    page.click("button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("siri.saebo")

    page.fill("#login", "siri.saebo")
    page.fill("#password", PASSWORD)
    page.fill("#code", totp.now())
    page.click("main button[type=submit]")
    expect(page).to_have_url(f"{base}/requests")
    cookie = next(c for c in page.context.cookies() if c["name"].endswith("dinplan_inbox_session"))
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"]) == (True, True, "Strict")

    rows = page.locator("table.requests tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_have_class(re.compile("overdue"))  # 40 days old: past the deadline
    expect(rows.last.locator(".reference")).to_have_text(format_reference(reference))
    assert ANSWERS[next(iter(ANSWERS))] not in page.content()
    _screenshot(page, tmp_path, "inbox-list.png")

    page.click(f"text={format_reference(reference)}")
    expect(page.locator("h1")).to_have_text(f"Førespurnad {format_reference(reference)}")
    content = page.content()
    for step, answer in ANSWERS.items():
        assert (answer in content) is (step is not NOT_SHARED)
    assert "Kari Nordmann" in content
    _screenshot(page, tmp_path, "inbox-request.png")

    with page.expect_download() as download:
        page.click("text=Last ned PDF")
    pdf = Path(download.value.path())
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert download.value.suggested_filename == f"dinplan-{format_reference(reference)}.pdf"

    page.click("#acknowledge")
    expect(page.locator(".notice")).to_have_text("Mottaket er stadfesta. Personen får melding.")
    expect(page.locator(".badge").first).to_have_text("Motteken")

    # The citizen's side: the acknowledgement is stored for the notifier, and /status still
    # answers the citizen (the request is theirs, and it is received).
    with unit_of_work(engine) as session:
        delivered = session.exec(select(DeliveredRequest).where(
            DeliveredRequest.reference == reference)).one()
        assert request_status(session, delivered_request_id=delivered.id or 0) \
            is RequestStatus.RECEIVED
        audited = [(e.staff_login, e.action) for e in session.exec(
            select(AuditEntry).where(AuditEntry.reference == reference))]
    assert audited == [("siri.saebo", "open"), ("siri.saebo", "download_pdf"),
                       ("siri.saebo", "acknowledge"), ("siri.saebo", "open")]
    status = citizen.say(CommandEvent(Command.STATUS))
    assert format_reference(reference) in status.replies[0].text

    page.click("header button:has-text('Logg ut')")
    expect(page.locator(".notice")).to_have_text("Du er logga ut.")
    page.goto(f"{base}/requests/{reference}")
    expect(page).to_have_url(f"{base}/login")
