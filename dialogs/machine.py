"""The dialog engine: one `transitions` Machine shared by every conversation.

Per event the conversation is lent to the machine's one model, the event is read by its step's
reader, the matching trigger is fired, and the model lets go of the conversation again. Nothing
here knows about Telegram, terminals or databases: an event goes in, replies and effects come out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from transitions import Machine

from dialogs.draft import Conversation, DraftPlan, Language, Role, SubmissionInfo
from dialogs.events import (
    ChoiceEvent,
    Command,
    CommandEvent,
    Effect,
    Event,
    Outcome,
    Reply,
    TextEvent,
    UnsupportedEvent,
    parse_command,
)
from dialogs.flow import TRANSITIONS
from dialogs.inputs import READERS, Advance, Invalid, Resume, Stay
from dialogs.prompts import prompt_for
from dialogs.reference import new_reference
from dialogs.review import status_reply
from dialogs.routing import NoDirectory, Router, pending_step
from dialogs.steps import INTERRUPTING_STEPS, QUESTION_STEPS, RESTING_STEPS, Step

# Enough to walk back through the whole conversation, bounded so review loops stay small.
MAX_HISTORY = 60

# Steps where /hopp means "Vet ikke nå" or "no answer".
SKIPPABLE_STEPS = frozenset({*QUESTION_STEPS, Step.CHOOSE_SERVICES, Step.CHOOSE_COORDINATOR_WISH,
                             Step.GIVE_REACH_TIME})

# Steps before consent: nothing of the person's is stored yet.
BEFORE_CONSENT = frozenset({Step.CHOOSE_LANGUAGE, Step.READ_INTRO, Step.GIVE_CONSENT,
                            Step.DECLINED})


def _say_and_ask(conv: Conversation, outcome: Outcome, *replies: Reply) -> None:
    """Say these, then ask the step's question again: a turn never ends without the way on."""
    outcome.replies.extend(replies)
    outcome.replies.extend(prompt_for(conv))


class DialogTurn:
    """The model `transitions` drives, lent one conversation per event; conditions read it.

    Added to the machine once: `Machine.add_model` binds every trigger and state method to the
    model, which cost more than the rest of `Dialog.handle` when done per event.
    """

    def __init__(self, conv: Conversation) -> None:
        self.conv = conv
        self.state: Step = conv.step

    def is_relative(self) -> bool:
        return self.conv.draft.role is Role.RELATIVE

    def is_editing(self) -> bool:
        return self.conv.editing

    def has_language(self) -> bool:
        return self.conv.language is not None

    def wishes_particular_coordinator(self) -> bool:
        return bool(self.conv.draft.wishes_coordinator)

    def has_everything_for_review(self) -> bool:
        return not missing_steps(self.conv)

    def needs_target_group(self) -> bool:
        return pending_step(self.conv.router, self.conv.draft) is Step.CHOOSE_TARGET_GROUP

    def needs_district(self) -> bool:
        return pending_step(self.conv.router, self.conv.draft) is Step.CHOOSE_DISTRICT


_NOBODY = Conversation()


def missing_steps(conv: Conversation) -> list[Step]:
    """Required answers not yet given, in the order they are asked."""
    draft = conv.draft
    routing = pending_step(conv.router, draft)
    required = {
        Step.CHOOSE_ROLE: draft.role is not None,
        Step.GIVE_PERSON_NAME: draft.role is not Role.RELATIVE or bool(draft.person_name),
        Step.CHOOSE_RELATION: draft.role is not Role.RELATIVE or draft.relation is not None,
        Step.CHOOSE_BASIS: draft.role is not Role.RELATIVE or draft.basis is not None,
        Step.CHOOSE_REQUEST: draft.request is not None,
        Step.GIVE_COORDINATOR_WISH: not draft.wishes_coordinator or bool(draft.coordinator_wish),
        Step.GIVE_CONTACT_NAME: bool(draft.contact_name),
        Step.GIVE_PHONE: bool(draft.phone),
        Step.GIVE_MUNICIPALITY: bool(draft.municipality_number),
        Step.CHOOSE_TARGET_GROUP: routing is not Step.CHOOSE_TARGET_GROUP,
        Step.CHOOSE_DISTRICT: routing is not Step.CHOOSE_DISTRICT,
    }
    return [step for step, given in required.items() if not given]


def build_machine() -> Machine:
    return Machine(model=None, states=Step, transitions=TRANSITIONS,
                   initial=Step.CHOOSE_LANGUAGE, auto_transitions=False)


class Dialog:
    """Handles one event for one conversation at a time; safe to share across conversations."""

    def __init__(self, router: Router | None = None, *, draft_retention_days: int = 30,
                 request_retention_days: int = 90) -> None:
        self._router: Router = router or NoDirectory()
        self._draft_retention_days = draft_retention_days
        self._request_retention_days = request_retention_days
        self._machine = build_machine()
        self._model = DialogTurn(_NOBODY)
        self._machine.add_model(self._model, initial=Step.CHOOSE_LANGUAGE)
        self._lock = threading.Lock()

    @property
    def machine(self) -> Machine:
        return self._machine

    @property
    def draft_retention_days(self) -> int:
        return self._draft_retention_days

    def _lend(self, conv: Conversation) -> None:
        """What the conversation needs for this turn and never stores."""
        conv.router, conv.draft_retention_days = self._router, self._draft_retention_days
        conv.request_retention_days = self._request_retention_days

    def greet(self, conv: Conversation) -> Outcome:
        """What to say when a person opens the chat: welcome back, or the first question."""
        self._lend(conv)
        outcome = Outcome()
        if conv.step is not Step.CHOOSE_LANGUAGE or conv.history:
            outcome.replies.append(Reply("welcome_back"))
        outcome.replies.extend(prompt_for(conv))
        return outcome

    def handle(self, conv: Conversation, event: Event, now: datetime) -> Outcome:
        self._lend(conv)
        conv.turn += 1
        outcome = Outcome()
        if isinstance(event, TextEvent) and event.text.strip().startswith("/"):
            command = parse_command(event.text.strip().split()[0])
            if command is None:
                _say_and_ask(conv, outcome, Reply("unknown_command"))
                return outcome
            event = CommandEvent(command)
        if isinstance(event, CommandEvent):
            self._command(conv, event.command, now, outcome)
        elif isinstance(event, UnsupportedEvent):
            _say_and_ask(conv, outcome, Reply("invalid.unsupported"))
        else:
            self._input(conv, event, now, outcome)
        return outcome

    # -- reading input -------------------------------------------------------------------------

    def _input(self, conv: Conversation, event: TextEvent | ChoiceEvent, now: datetime,
               outcome: Outcome) -> None:
        result = READERS[conv.step](conv, event, now)
        if isinstance(result, Invalid):
            _say_and_ask(conv, outcome, Reply(result.key, result.params))
        elif isinstance(result, Stay):
            outcome.replies.extend(result.replies)
            if result.ask_again:
                outcome.replies.extend(prompt_for(conv))
        elif isinstance(result, Resume):
            self._resume(conv, outcome)
        else:
            self._advance(conv, result, now, outcome)

    def _advance(self, conv: Conversation, result: Advance, now: datetime,
                 outcome: Outcome) -> None:
        source = conv.step
        if result.trigger == "send" and missing_steps(conv):
            # A follow-up left open after an edit (a relative's name, say, when /endre or
            # /tilbake led back to the review): ask it first, then return to the review.
            self._remember(conv, source)
            conv.editing = True
            self._arrive(conv, missing_steps(conv)[0])
            outcome.replies.extend(prompt_for(conv))
            return
        if result.trigger == "send":
            conv.submission = self._submission(conv, now)
        self._fire(conv, result.trigger)
        if result.trigger == "send":
            outcome.effects.append(Effect.SUBMIT)
            conv.history.clear()
        elif result.trigger == "confirm":
            self._confirmed(conv, source, now, outcome)
            return
        else:
            self._remember(conv, source)
        outcome.replies.extend(prompt_for(conv))

    def _submission(self, conv: Conversation, now: datetime) -> SubmissionInfo:
        draft = conv.draft
        number = draft.municipality_number or ""
        if not conv.router.in_directory(number):
            return SubmissionInfo(new_reference(), now, status="saved")
        unit = conv.router.unit_name(number, draft.target_group, draft.district,
                                     conv.language or Language.BOKMAL)
        return SubmissionInfo(new_reference(), now, status="sent", unit_name=unit)

    def _confirmed(self, conv: Conversation, source: Step, now: datetime,
                   outcome: Outcome) -> None:
        if source is Step.CONFIRM_WITHDRAW:
            outcome.effects.append(Effect.WITHDRAW_CONSENT)
            conv.declined_at, conv.consented_at, conv.wants_reminder = now, None, None
            conv.draft, conv.history, conv.return_to, conv.editing = DraftPlan(), [], None, False
            conv.reached_review = False
            _say_and_ask(conv, outcome, Reply("consent.withdrawn"))  # the way on: /start
            return
        if source is Step.CONFIRM_ERASE:
            outcome.effects.append(Effect.ERASE_EVERYTHING)
            outcome.replies.append(Reply("erased"))
            language = conv.language
            fresh = Conversation(turn=conv.turn)
            vars(conv).update(vars(fresh))
            conv.language = language
            return
        outcome.effects.append(Effect.DISCARD_DRAFT)
        conv.draft, conv.history, conv.return_to, conv.editing = DraftPlan(), [], None, False
        conv.reached_review = False
        outcome.replies.extend(prompt_for(conv))

    def _fire(self, conv: Conversation, trigger: str) -> None:
        # Transports run turns in worker threads, and there is one model: one event at a time.
        with self._lock:
            model = self._model
            model.conv, model.state = conv, conv.step
            try:
                fired = model.trigger(trigger)  # type: ignore[attr-defined]
                arrived = model.state
            finally:
                model.conv = _NOBODY  # no one's conversation stays behind between events
        if not fired:
            # Rows are tried in order; a table without a fallback row is a bug in flow.py.
            raise RuntimeError(f"No transition for {trigger!r} from {conv.step.value}")
        self._arrive(conv, arrived)

    def _arrive(self, conv: Conversation, step: Step) -> None:
        conv.step = step
        if step is Step.REVIEW:
            conv.editing, conv.reached_review = False, True

    def _remember(self, conv: Conversation, source: Step) -> None:
        if source in INTERRUPTING_STEPS or source in RESTING_STEPS - {Step.DECLINED}:
            return
        conv.history = [*conv.history, source][-MAX_HISTORY:]

    def _interrupt(self, conv: Conversation, trigger: str, outcome: Outcome) -> None:
        # An interruption of an interruption returns to the step first interrupted; so does
        # one of a language choice that /sprak opened.
        if conv.step not in INTERRUPTING_STEPS \
                and not (conv.step is Step.CHOOSE_LANGUAGE and conv.return_to is not None):
            conv.return_to = conv.step
        self._fire(conv, trigger)
        if conv.return_to is conv.step:
            conv.return_to = None  # /sprak while choosing the language: nothing to return to
        outcome.replies.extend(prompt_for(conv))

    def _resume(self, conv: Conversation, outcome: Outcome) -> None:
        target = conv.return_to
        conv.return_to = None
        if target is None and conv.step in INTERRUPTING_STEPS:
            # Only the first language choice keeps no step to return to (see _interrupt).
            target = Step.CHOOSE_LANGUAGE
        if target is None:
            self._fire(conv, "proceed")
        else:
            self._arrive(conv, target)
        outcome.replies.extend(prompt_for(conv))

    # -- commands ------------------------------------------------------------------------------

    def _command(self, conv: Conversation, command: Command, now: datetime,
                 outcome: Outcome) -> None:
        handler = {
            Command.START: self._start,
            Command.HELP: self._inform("help.commands"),
            Command.ABOUT: self._about,
            Command.RIGHTS: self._rights,
            Command.STATUS: self._status,
            Command.BACK: self._back,
            Command.SKIP: self._skip,
            Command.EDIT: self._edit,
            Command.LANGUAGE: self._switch_language,
            Command.CANCEL: self._cancel,
            Command.ERASE: self._erase,
            Command.MY_DATA: self._my_data,
            Command.WITHDRAW_CONSENT: self._withdraw_consent,
        }[command]
        handler(conv, now, outcome)

    def _inform(self, *keys: str) -> Callable[[Conversation, datetime, Outcome], None]:
        def inform(conv: Conversation, now: datetime, outcome: Outcome) -> None:
            _say_and_ask(conv, outcome, *(Reply(key) for key in keys))
        return inform

    def _about(self, conv: Conversation, now: datetime, outcome: Outcome) -> None:
        self._inform("intro.what_is_a_plan", "intro.what_is_a_coordinator",
                     "about.more_information")(conv, now, outcome)

    def _rights(self, conv: Conversation, now: datetime, outcome: Outcome) -> None:
        self._inform("rights.plan", "rights.coordinator", "rights.consent",
                     "rights.answer_within_a_month", "rights.complaint")(conv, now, outcome)

    def _status(self, conv: Conversation, now: datetime, outcome: Outcome) -> None:
        if conv.submission is None:
            _say_and_ask(conv, outcome, Reply("status.not_sent"))
            return
        outcome.replies.append(status_reply(conv.submission))
        if conv.step is Step.SENT:
            # Not the whole receipt again, but still the way on (/start).
            outcome.replies.append(Reply("receipt.next"))
        else:
            outcome.replies.extend(prompt_for(conv))

    def _start(self, conv: Conversation, now: datetime, outcome: Outcome) -> None:
        if conv.step in RESTING_STEPS:
            conv.draft, conv.history = DraftPlan(), []
            conv.editing, conv.reached_review = False, False
            outcome.effects.append(Effect.START_DRAFT)
            self._fire(conv, "restart")
            outcome.replies.extend(prompt_for(conv))
        elif conv.step is Step.CHOOSE_LANGUAGE and conv.language and not conv.history \
                and conv.return_to is None:
            # The transport knew the language (a Telegram app setting): go straight on.
            outcome.replies.append(Reply("language.preselected"))
            self._advance(conv, Advance(), now, outcome)
        else:
            outcome.replies.extend(self.greet(conv).replies)

    def _back(self, conv: Conversation, now: datetime, outcome: Outcome) -> None:
        if conv.return_to is not None or (conv.step in INTERRUPTING_STEPS):
            self._resume(conv, outcome)
        elif conv.step in (Step.SENT, Step.CANCELLED) or not conv.history:
            _say_and_ask(conv, outcome, Reply("back.not_possible"))
        else:
            *rest, previous = conv.history
            conv.history = rest
            self._arrive(conv, previous)
            outcome.replies.extend(prompt_for(conv))

    def _skip(self, conv: Conversation, now: datetime, outcome: Outcome) -> None:
        if conv.step not in SKIPPABLE_STEPS:
            _say_and_ask(conv, outcome, Reply("skip.not_possible"))
            return
        self._input(conv, ChoiceEvent("skip"), now, outcome)

    def _edit(self, conv: Conversation, now: datetime, outcome: Outcome) -> None:
        if not conv.reached_review or conv.step in RESTING_STEPS:
            _say_and_ask(conv, outcome, Reply("edit.not_yet"))
            return
        # From an interruption (/sprak, /avbryt), /tilbake should lead back to the step it
        # interrupted, not to the language choice or the confirmation.
        origin = conv.return_to or conv.step
        if origin is not Step.REVIEW:
            self._remember(conv, origin)
        conv.return_to = None
        self._arrive(conv, Step.REVIEW)
        outcome.replies.extend(prompt_for(conv))

    def _switch_language(self, conv: Conversation, now: datetime, outcome: Outcome) -> None:
        self._interrupt(conv, "switch_language", outcome)

    def _cancel(self, conv: Conversation, now: datetime, outcome: Outcome) -> None:
        # While choosing the language mid-draft, the draft being worked on is the one to cancel.
        where = conv.return_to or conv.step
        if where in BEFORE_CONSENT or where in RESTING_STEPS:
            _say_and_ask(conv, outcome, Reply("cancel.nothing_to_cancel"))
            return
        self._interrupt(conv, "ask_cancel", outcome)

    def _erase(self, conv: Conversation, now: datetime, outcome: Outcome) -> None:
        self._interrupt(conv, "ask_erase", outcome)

    def _my_data(self, conv: Conversation, now: datetime, outcome: Outcome) -> None:
        outcome.effects.append(Effect.EXPORT_MY_DATA)
        _say_and_ask(conv, outcome, Reply("my_data.sent"))

    def _withdraw_consent(self, conv: Conversation, now: datetime, outcome: Outcome) -> None:
        if conv.consented_at is None:
            _say_and_ask(conv, outcome, Reply("consent.nothing_to_withdraw"))
            return
        self._interrupt(conv, "ask_withdraw", outcome)
