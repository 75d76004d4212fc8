"""The state diagram in docs/ is drawn from the machine and must match it."""

from dialogs.diagram import DIAGRAM_FILE, document
from dialogs.steps import Step


def test_diagram_is_up_to_date() -> None:
    assert DIAGRAM_FILE.read_text(encoding="utf-8") == document(), (
        "docs/dialog-states.md is stale: run `python -m dialogs.diagram`")


def test_diagram_shows_every_step() -> None:
    text = document()
    missing = [step.name for step in Step if f'state "{step.name}"' not in text]
    assert not missing
