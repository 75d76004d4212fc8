"""Every text the inbox shows staff, as a key and its English source; people read nb or nn.

Templates hold no words: they call `t(key, ...)`, which looks the key up in the catalogs in the
staff member's written standard. Labels of the citizen's dialog (what is asked for, relations,
services, question titles) are reused from `dialogs.messages`. A sentence with a count is
declared with `plural(key, singular, plural)` and shown with `t.counted(key, count)`, which picks
the catalog's form for that count (gettext's npgettext).
"""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_datetime

from dialogs.messages import MESSAGES, PluralMessage, catalog, plural, text
from dialogs.review import NORWAY, local_date
from locales import translate, translate_plural

INBOX_MESSAGES = catalog(
    text('inbox.title', 'Din plan – requests to the coordinating unit'),
    text('inbox.skip_to_content', 'Skip to the content'),
    text('inbox.signed_in_as', 'Logged in as {name}, {unit}.'),
    text('inbox.nav.requests', 'Requests'),
    text('inbox.nav.log_out', 'Log out'),
    text('inbox.language.label', 'Written standard'),
    text('inbox.language.submit', 'Change'),
    # Log-in and set-up
    text('inbox.login.heading', 'Log in'),
    text('inbox.login.intro',
         'You need your user name, your password and a code from the authenticator app on '
         'your phone.'),
    text('inbox.login.login', 'User name'),
    text('inbox.login.password', 'Password'),
    text('inbox.login.code', 'Code from the authenticator app (six digits)'),
    text('inbox.login.submit', 'Log in'),
    text('inbox.login.wrong', 'The user name, the password or the code is wrong. Try again.'),
    text('inbox.login.locked',
         'Too many failed attempts. You cannot log in for the next {minutes} minutes. Try '
         'again later, or ask the administrator for help.'),
    text('inbox.login.expired', 'You were logged out because you were away for a while. Log in '
         'again.'),
    text('inbox.login.logged_out', 'You are logged out.'),
    text('inbox.login.set_up_done', 'All is ready. Log in with the user name {login}.'),
    text('inbox.setup.heading', 'Get started'),
    text('inbox.setup.intro',
         'Hello, {name}. Choose a password, and add Din plan to an authenticator app on your '
         'phone. You need both every time you log in.'),
    text('inbox.setup.login', 'Your user name is {login}.'),
    text('inbox.setup.uri', 'Key for the authenticator app, as a link'),
    text('inbox.setup.secret', 'Or type in this key by hand'),
    text('inbox.setup.password', 'New password (at least {min} characters)'),
    text('inbox.setup.repeat', 'The same password again'),
    text('inbox.setup.code', 'The code the app shows now (six digits)'),
    text('inbox.setup.submit', 'Save'),
    text('inbox.setup.too_short', 'The password must have at least {min} characters.'),
    text('inbox.setup.too_long', 'The password can have at most {max} characters.'),
    text('inbox.setup.not_repeated', 'The two passwords are not the same.'),
    text('inbox.setup.wrong_code',
         'The code is wrong. Check that the clock on your phone is right, and use the next '
         'code.'),
    text('inbox.setup.invalid_link',
         'This link does not work. It has been used, or it is too old. Ask the administrator '
         'for a new one.'),
    # The list
    text('inbox.list.heading', 'Requests to {unit}'),
    text('inbox.list.filter', 'Show requests with status'),
    text('inbox.list.filter_all', 'All'),
    text('inbox.list.filter_submit', 'Show'),
    text('inbox.list.empty', 'There are no requests here.'),
    text('inbox.list.sorted', 'Sorted by answer deadline, the most urgent first.'),
    # NOTE: A request no one at the unit has opened yet. Shown beside its reference in the list.
    text('inbox.list.unopened', 'Unopened'),
    # NOTE: Above the list: how many of the requests shown no one at the unit has opened yet.
    plural('inbox.list.unopened_count', '{count} request is not opened yet.',
           '{count} requests are not opened yet.'),
    text('inbox.column.reference', 'Reference'),
    text('inbox.column.received', 'Received'),
    text('inbox.column.target_group', 'For whom'),
    text('inbox.column.asks_for', 'Asks for'),
    text('inbox.column.status', 'Status'),
    text('inbox.column.deadline', 'Answer deadline'),
    text('inbox.deadline.days_left', 'Days left: {days}'),
    text('inbox.deadline.today', 'The deadline is today'),
    text('inbox.deadline.overdue', 'Overdue. Days past the deadline: {days}'),
    text('inbox.status.new', 'New'),
    text('inbox.status.received', 'Received'),
    text('inbox.status.in_progress', 'In progress'),
    text('inbox.status.closed', 'Closed'),
    # One request
    text('inbox.request.heading', 'Request {reference}'),
    text('inbox.request.back', 'Back to the list'),
    text('inbox.request.received', 'Received'),
    text('inbox.request.deadline', 'Answer deadline'),
    text('inbox.request.status', 'Status'),
    text('inbox.request.municipality', 'Municipality'),
    text('inbox.request.asks_for', 'Asks for'),
    text('inbox.request.prepared_by', 'Who prepared the request'),
    text('inbox.request.prepared_by_self', 'The person themselves.'),
    text('inbox.request.person_name', 'The first name of the person'),
    text('inbox.request.relation', 'The relative is'),
    text('inbox.request.basis', 'Basis for acting on behalf of the person'),
    text('inbox.request.contact', 'Contact'),
    text('inbox.request.contact_name', 'Name'),
    text('inbox.request.phone', 'Phone'),
    text('inbox.request.reach_time', 'Best time to call'),
    text('inbox.request.not_given', 'Not given'),
    text('inbox.request.answers', 'Answers the person shares'),
    text('inbox.request.not_answered', 'Not answered'),
    text('inbox.request.no_answers', 'The person shares no answers.'),
    text('inbox.request.services', 'Services today'),
    text('inbox.request.coordinator_wish', 'Wish for coordinator'),
    text('inbox.request.no_coordinator_wish', 'No one in particular'),
    text('inbox.request.downloads', 'Files'),
    # NOTE: {format} is the name of a file format: PDF, FHIR or JSON.
    text('inbox.download', 'Download {format}'),
    text('inbox.request.acknowledge', 'Confirm receipt'),
    text('inbox.request.acknowledge_explained',
         'When you confirm receipt, the person is told that the unit has received the '
         'request.'),
    text('inbox.request.acknowledged', 'Receipt confirmed {date} by {name}.'),
    text('inbox.request.change_status', 'Change the status'),
    text('inbox.request.save_status', 'Save the status'),
    text('inbox.notes.heading', 'Internal notes'),
    text('inbox.notes.explained', 'Only staff of the unit see these notes. The person does not.'),
    text('inbox.notes.none', 'No notes yet.'),
    text('inbox.notes.new', 'New note'),
    text('inbox.notes.submit', 'Add the note'),
    text('inbox.notes.by', '{name}, {date}'),
    text('inbox.done.acknowledged', 'Receipt is confirmed. The person will be told.'),
    text('inbox.done.status_changed', 'The status is changed.'),
    text('inbox.done.note_added', 'The note is added.'),
    # Errors
    text('inbox.error.not_found', 'Not found'),
    text('inbox.error.not_found_explained',
         'Your unit has no request with this reference.'),
    text('inbox.error.form_expired', 'The page is too old'),
    text('inbox.error.form_expired_explained',
         'What you filled in could not be sent. Load the page again and try once more.'),
)


def _filled(template: str, params: dict[str, object]) -> str:
    return template.format_map({name: str(value) for name, value in params.items()})


class Texts:
    """The inbox's texts in one written standard, for templates and responses."""

    def __init__(self, language: str) -> None:
        self.language = language if language in ("nb", "nn") else "nb"

    def __call__(self, key: str, **params: object) -> str:
        return _filled(translate(self.language, key, MESSAGES[key].source), params)

    def counted(self, key: str, count: int, **params: object) -> str:
        """A message declared with `plural`, in the form for `count`, which fills `{count}`."""
        message = MESSAGES[key]
        if not isinstance(message, PluralMessage):
            raise TypeError(f"{key} is not declared with plural(...)")
        template = translate_plural(self.language, key, message.source, message.plural, count)
        return _filled(template, {**params, "count": count})

    def long_date(self, value: date | datetime) -> str:
        if isinstance(value, datetime):
            value = local_date(value)
        return format_date(value, format="long", locale=self.language)

    def short_date(self, value: date | datetime) -> str:
        if isinstance(value, datetime):
            value = local_date(value)
        return format_date(value, format="short", locale=self.language)

    def moment(self, value: datetime) -> str:
        return format_datetime(value.astimezone(NORWAY), format="short", tzinfo=NORWAY,
                               locale=self.language)
