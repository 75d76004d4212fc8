"""`dinplan staff add/list/disable` and `dinplan audit`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Engine

from bot.cli import main
from storage.db import unit_of_work
from storage.settings import get_settings
from storage.staff import AuditAction, account_for_setup, audit, find_staff

from .conftest import ASANE, GULEN, Clock, StaffMember


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def use_test_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DINPLAN_DATABASE_URL", database_url)
    monkeypatch.setenv("DINPLAN_INBOX_URL", "https://innboks.example.no/")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("use_test_database")
def test_staff_add_prints_a_one_time_set_up_link(engine: Engine, clock: Clock,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = _run(capsys, "staff", "add", "--unit", GULEN, "--name", "Åse Ødegård",
                           "--lang", "nn")
    assert code == 0
    link = re.search(r"https://innboks\.example\.no/setup/(\S+)", out)
    assert link is not None, out
    assert "ase.odegard" in out
    with unit_of_work(engine) as session:
        account = account_for_setup(session, token=link.group(1), now=clock())
        assert account is not None
        assert (account.unit_id, account.name, account.language) == (GULEN, "Åse Ødegård", "nn")

    code, _out, err = _run(capsys, "staff", "add", "--unit", GULEN, "--name", "Åse Ødegård")
    assert code == 2
    assert "taken" in err
    code, _out, err = _run(capsys, "staff", "add", "--unit", "no-such-unit", "--name", "X Y")
    assert code == 2
    assert "no unit 'no-such-unit'" in err


@pytest.mark.usefixtures("use_test_database")
def test_staff_list_and_disable(make_staff: Callable[..., StaffMember], engine: Engine,
                                capsys: pytest.CaptureFixture[str]) -> None:
    make_staff(name="Siri Sæbø")
    make_staff(unit_id=ASANE, name="Berit Berg", language="nb")
    _run(capsys, "staff", "add", "--unit", GULEN, "--name", "Ny Tilsett")
    code, out, _err = _run(capsys, "staff", "list")
    assert code == 0
    lines = out.splitlines()
    assert any("siri.saebo" in line and "active" in line for line in lines)
    assert any("ny.tilsett" in line and "waiting for set-up" in line for line in lines)
    code, out, _err = _run(capsys, "staff", "list", "--unit", ASANE)
    assert "berit.berg" in out
    assert "siri.saebo" not in out

    code, out, _err = _run(capsys, "staff", "disable", "siri.saebo")
    assert code == 0
    assert "Disabled" in out
    _code, out, _err = _run(capsys, "staff", "list")
    assert any("siri.saebo" in line and "disabled" in line for line in out.splitlines())
    with unit_of_work(engine) as session:
        account = find_staff(session, login="siri.saebo")
        assert account is not None
        assert account.disabled_at is not None
    code, _out, err = _run(capsys, "staff", "disable", "nobody")
    assert code == 2
    assert "nobody" in err


@pytest.mark.usefixtures("use_test_database")
def test_audit_lists_who_did_what_to_which_request(
        make_staff: Callable[..., StaffMember], engine: Engine, clock: Clock,
        capsys: pytest.CaptureFixture[str]) -> None:
    siri = make_staff(name="Siri Sæbø")
    berit = make_staff(unit_id=ASANE, name="Berit Berg", language="nb")
    with unit_of_work(engine) as session:
        audit(session, staff=siri.account, action=AuditAction.OPEN, reference="ABCD2345",
              now=clock())
        audit(session, staff=siri.account, action=AuditAction.DOWNLOAD_PDF,
              reference="ABCD2345", now=clock())
        audit(session, staff=berit.account, action=AuditAction.OPEN, reference="ABCD2345",
              allowed=False, now=clock())
    code, out, _err = _run(capsys, "audit")
    assert code == 0
    body = out.splitlines()[1:]
    assert len(body) == 3
    assert "berit.berg" in body[0]
    assert "DENIED" in body[0]
    assert "download_pdf" in body[1]
    assert "ok" in body[1]
    _code, out, _err = _run(capsys, "audit", "--login", "siri.saebo", "--reference", "abcd-2345")
    assert len(out.splitlines()) == 3
    assert "berit" not in out
    _code, out, _err = _run(capsys, "audit", "--unit", ASANE)
    assert len(out.splitlines()) == 2
