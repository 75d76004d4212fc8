"""Shows the readability figures of the catalogs at the end of every pytest run."""

from __future__ import annotations

import pytest

FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture
def language_report(request: pytest.FixtureRequest) -> list[str]:
    """Lines a test wants in the terminal summary, with or without -s."""
    return request.config.stash.setdefault(FIGURES, [])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    lines = config.stash.get(FIGURES, [])
    if lines:
        terminalreporter.section("readability of the catalogs (LIX)")
        for line in lines:
            terminalreporter.write_line(line)
