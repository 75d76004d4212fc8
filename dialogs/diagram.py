"""Draw the conversation's state machine as Mermaid, for docs/dialog-states.md.

`python -m dialogs.diagram` rewrites the file; a test fails when it is out of date. The rows that
apply from every step (language switch, cancel, erase) are listed under the diagram instead of
drawn from all thirty steps.
"""

from __future__ import annotations

import sys
from pathlib import Path

from transitions.extensions import GraphMachine

from dialogs.flow import TRANSITIONS
from dialogs.steps import Step

DIAGRAM_FILE = Path(__file__).resolve().parents[1] / "docs" / "dialog-states.md"


class _Drawn:
    """A model for drawing only."""


def mermaid() -> str:
    drawn = [row for row in TRANSITIONS if row["source"] != "*"]
    machine = GraphMachine(model=None, states=Step, transitions=drawn,
                           initial=Step.CHOOSE_LANGUAGE, auto_transitions=False,
                           graph_engine="mermaid", show_conditions=True,
                           title="Din plan: the citizen conversation")
    model = _Drawn()
    machine.add_model(model)
    return str(model.get_graph().draw(None)).strip()  # type: ignore[attr-defined]


def document() -> str:
    anywhere = sorted({f"`{row['trigger']}` → {row['dest'].name}" for row in TRANSITIONS
                       if row["source"] == "*"})
    lines = [
        "# The citizen conversation",
        "",
        "Generated from `dialogs/flow.py` by `python -m dialogs.diagram`; "
        "`tests/test_diagram.py` fails when it is out of date.",
        "",
        "```mermaid",
        mermaid(),
        "```",
        "",
        "From every step (answering returns to the step the person came from):",
        "",
        *[f"- {item}" for item in anywhere],
        "",
        "`/tilbake` goes back through the steps the person has been at (kept in the conversation's "
        "history), and from an interruption returns to where it was.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    DIAGRAM_FILE.write_text(document(), encoding="utf-8")
    print(f"wrote {DIAGRAM_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
