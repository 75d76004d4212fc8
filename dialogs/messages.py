"""Every sentence the citizen sees, as a key and its English source text.

The English is the gettext msgid that translators read; the person only ever sees the Bokmål or
Nynorsk translation from `locales/`. `pybabel extract` finds these through the `text` keyword
(the key is the message context), so this list and the catalogs cannot drift apart unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Message:
    key: str
    source: str


def text(key: str, source: str) -> Message:
    return Message(key, source)


@dataclass(frozen=True, slots=True)
class PluralMessage(Message):
    """A message with a count: `source` is the English singular (the msgid), `plural` the
    English plural (msgid_plural); the catalogs hold one form per plural form of the language."""

    plural: str


def plural(key: str, one: str, other: str) -> PluralMessage:
    """Declared like `text`, with the English for one and for any other count; `pybabel
    extract` finds it through the `plural:1c,2,3` keyword."""
    return PluralMessage(key, one, other)


# Every message of every module, by key; other packages add theirs with `catalog(...)`.
MESSAGES: dict[str, Message] = {}


def catalog(*messages: Message) -> dict[str, Message]:
    """Register a module's messages; a key used twice is a bug, caught at import."""
    added = {m.key: m for m in messages}
    clash = (added.keys() & MESSAGES.keys()) - {k for k, m in added.items() if MESSAGES.get(k) == m}
    if clash or len(added) != len(messages):
        raise ValueError(f"message keys defined twice: {sorted(clash) or 'within one catalog'}")
    MESSAGES.update(added)
    return added


DIALOG_MESSAGES = catalog(
    text('choose_language',
         'Welcome to Din plan! Do you want to write in Bokmål or Nynorsk? You can change '
         'this later with /sprak.'),
    text('language.preselected',
         'I will write in the written standard your app is set to. Write /sprak to change '
         'it.'),
    text('option.bokmal', 'Bokmål'),
    text('option.nynorsk', 'Nynorsk'),
    text('intro.what_is_a_plan',
         'If you need long-term and coordinated health and care services, you have the '
         'right to an individual plan (IP). The plan is yours. It describes what matters '
         'to you, your goals, and who helps you with what.'),
    text('intro.what_is_a_coordinator',
         'A coordinator is one of the people who give you services. The coordinator makes '
         'the services work together and follows up the plan with you. You can get a '
         'coordinator even if you say no to a plan. Your wish counts when the coordinator '
         'is chosen.'),
    text('intro.what_happens_here',
         'Here you can prepare for the first meeting. I ask the questions from the '
         'brochure "Det er din plan". At the end you see everything and choose what to '
         'send to the coordinating unit in your municipality. It takes about ten minutes.'),
    text('option.continue', 'Continue'),
    # NOTE: The privacy notice (PRIVACY.md says the same at length): what is stored, where,
    # for how long, who sees it, the person's rights, and the Telegram caveat.
    text('privacy.what_is_stored',
         'What you write is saved as a draft in Din plan. Names, phone numbers and answers '
         'are stored encrypted. A draft you do not send is deleted after {days} days.'),
    text('privacy.who_receives',
         'Nothing is sent until you confirm at the end. Then the coordinating unit in your'
         ' municipality gets the answers you choose to share. You decide what is shared. '
         'You do not need to name any diagnosis.'),
    text('privacy.how_long',
         'When the unit has confirmed that it got your request, Din plan deletes its copy '
         'after {days} days. The unit keeps its own copy.'),
    text('privacy.your_rights',
         'Write /mine_data to get all we store about you. Write /trekk_samtykke to withdraw '
         'your consent, or /slett to delete everything.'),
    text('privacy.telegram_caveat',
         'Telegram is not end-to-end encrypted, and Telegram keeps the chat on its own '
         'servers. Write only what you are comfortable sharing. You can delete the chat in '
         'Telegram yourself.'),
    text('privacy.ask_consent', 'Do you agree that Din plan stores your answers in this way?'),
    text('option.consent', 'Yes, I agree'),
    text('option.decline', 'No, thanks'),
    text('declined.resting',
         'All right. Nothing you write is stored. You can also contact the coordinating '
         'unit in your municipality directly. Write /start if you want to begin after all.'),
    text('ask_role', 'Who is this for?'),
    text('option.for_myself', 'Myself'),
    text('option.for_someone_else', 'Someone else, as a relative'),
    text('ask_person_name', 'What is the first name of the person you are helping?'),
    text('ask_relation', 'What are you to {name}?'),
    text('relation.parent', 'Parent'),
    text('relation.child', 'Child'),
    text('relation.partner', 'Spouse or partner'),
    text('relation.other_family', 'Other family'),
    text('relation.guardian', 'Guardian'),
    text('relation.other', 'Other'),
    text('ask_basis', 'What gives you the right to act for {name}?'),
    text('basis.person_agrees', 'The person agrees'),
    text('basis.parent_of_child_under_16', 'I am the parent of a child under 16'),
    text('basis.appointed_guardian', 'I am the appointed guardian'),
    text('basis.power_of_attorney', 'I have a power of attorney'),
    text('request.explained',
         'You can ask for an individual plan and a coordinator. You can also say no to a '
         'plan and still get a coordinator.'),
    text('ask_request.self', 'What do you want to ask for?'),
    text('ask_request.relative', 'What do you want to ask for on behalf of {name}?'),
    text('request.plan_and_coordinator', 'Individual plan and coordinator'),
    text('request.coordinator_only', 'Only a coordinator'),
    text('request.not_sure', 'Not sure yet'),
    text('question.progress', 'Question {number} of {total}'),
    text('previous_answer', 'Your answer now: «{answer}». Write a new answer, or keep this one.'),
    text('question.ask_strengths.self', 'What are your strengths and resources?'),
    text('question.ask_strengths.relative', 'What are the strengths and resources of {name}?'),
    text('question.ask_what_matters_in_life.self', 'What feels important to you in your life?'),
    text('question.ask_what_matters_in_life.relative',
         'What does {name} feel is important in life?'),
    text('question.ask_what_matters_everyday.self', 'What is important to you in everyday life?'),
    text('question.ask_what_matters_everyday.relative',
         'What is important to {name} in everyday life?'),
    text('question.ask_what_it_takes.self', 'What does it take for you to manage what you want?'),
    text('question.ask_what_it_takes.relative',
         'What does it take for {name} to manage what they want?'),
    text('question.ask_what_first.self', 'What is important for you to get done first?'),
    text('question.ask_what_first.relative', 'What is important for {name} to get done first?'),
    text('question.ask_what_works_now.self', 'What makes things work for you now?'),
    text('question.ask_what_works_now.relative', 'What makes things work for {name} now?'),
    text('examples.ask_strengths',
         'Examples:\n• I am good at cooking\n• I have good friends\n• I like going for walks\n'
         '• I do not give up'),
    text('examples.ask_what_matters_in_life',
         'Examples:\n• To live at home as long as possible\n• That my child takes part in '
         'leisure activities with other children\n• To be at work\n• To have the aids I need'
         ' for an active everyday life'),
    text('examples.ask_what_matters_everyday',
         'Examples:\n• To get out every day\n• To have fixed routines\n• To cook my own food\n'
         '• To meet friends'),
    text('examples.ask_what_it_takes',
         'Examples:\n• Help with shopping\n• Transport to work or school\n• That someone '
         'calls me before appointments\n• An aid in the bathroom'),
    text('examples.ask_what_first',
         'Examples:\n• To get help in the mornings in place\n• To find a school place\n• To '
         'have fewer people to deal with'),
    text('examples.ask_what_works_now',
         'Examples:\n• The same people in home care\n• My GP knows me well\n• The family '
         'helps at weekends'),
    text('option.show_examples', 'Show examples'),
    text('option.dont_know_now', "Don't know now"),
    text('option.keep_answer', 'Keep the answer'),
    text('option.done', 'Done'),
    text('ask_services.self',
         'Who gives you services today? Choose all that fit, then press Done.'),
    text('ask_services.relative',
         'Who gives {name} services today? Choose all that fit, then press Done.'),
    text('service.gp', 'GP'),
    text('service.home_care', 'Home care'),
    text('service.nav', 'NAV'),
    text('service.school', 'School or kindergarten'),
    text('service.child_welfare', 'Child welfare'),
    text('service.specialist', 'Hospital (specialist health service)'),
    text('service.other', 'Others'),
    text('option.selected', '✓ {label}'),
    text('option.unselected', '{label}'),
    text('coordinator_wish.explained',
         'The coordinator is one of those who give services. Your wish shall be given '
         'weight when the coordinator is chosen.'),
    text('ask_coordinator_wish.self', 'Do you want a particular service provider as coordinator?'),
    text('ask_coordinator_wish.relative',
         'Does {name} want a particular service provider as coordinator?'),
    text('option.has_coordinator_wish', 'Yes'),
    text('option.no_coordinator_wish', 'No, no one in particular'),
    text('ask_coordinator_wish_text',
         'Who is wished for as coordinator? For example «the GP» or «a nurse in home '
         'care».'),
    text('contact.explained', 'Now we need to know how the coordinating unit can reach you.'),
    text('ask_contact_name.self', 'What is your name?'),
    text('ask_contact_name.relative', 'What is your name? The unit will contact you about {name}.'),
    text('ask_phone',
         'Which phone number can the unit call? Write a Norwegian number, with or without '
         '+47.'),
    text('ask_reach_time', 'When is it best to call? Choose, or write in your own words.'),
    text('reach_time.morning', 'Before noon'),
    text('reach_time.afternoon', 'Afternoon'),
    text('reach_time.any_time', 'Any time'),
    text('ask_municipality.self', 'Which municipality do you live in?'),
    text('ask_municipality.relative', 'Which municipality does {name} live in?'),
    text('municipality.did_you_mean', 'I did not find «{text}». Did you mean one of these?'),
    text('option.municipality', '{name} ({county})'),
    text('municipality.not_found',
         'I found no municipality called «{text}». Check the spelling and try again.'),
    text('review.heading', 'Here is your draft. Look it over before you send it.'),
    text('review.prepared_by.self', 'For: yourself.'),
    text('review.prepared_by.relative', 'For: {name}. You are: {relation}. Basis: {basis}.'),
    text('review.request', 'Asks for: {request}.'),
    text('review.answer.shared', '{number}. {title}: {answer}'),
    text('review.answer.not_shared', '{number}. {title} (not shared): {answer}'),
    text('review.answer.skipped', '{number}. {title}: not answered'),
    text('review.services', 'Services today: {services}.'),
    text('review.services.none', 'Services today: not given.'),
    text('review.coordinator_wish', 'Wish for coordinator: {wish}'),
    text('review.coordinator_wish.none', 'Wish for coordinator: no one in particular.'),
    text('review.contact', 'Contact: {name}, phone {phone}, best reached: {reach_time}.'),
    text('review.contact.no_reach_time', 'Contact: {name}, phone {phone}.'),
    text('review.municipality', 'Municipality: {municipality}.'),
    text('review.ask_send', 'Do you want to send this to the coordinating unit now?'),
    text('option.send', 'Send'),
    text('option.change_answer', 'Change an answer'),
    text('option.choose_sharing', 'Choose what is shared'),
    text('ask_which_answer', 'Which answer do you want to change?'),
    text('option.back_to_review', 'Back to the overview'),
    text('title.choose_role', 'Who it is for'),
    text('title.give_person_name', 'First name'),
    text('title.choose_relation', 'What you are to the person'),
    text('title.choose_basis', 'Basis'),
    text('title.choose_request', 'What you ask for'),
    text('title.ask_strengths', 'Strengths and resources'),
    text('title.ask_what_matters_in_life', 'Important in life'),
    text('title.ask_what_matters_everyday', 'Important in everyday life'),
    text('title.ask_what_it_takes', 'What it takes'),
    text('title.ask_what_first', 'Most important to get done first'),
    text('title.ask_what_works_now', 'What works now'),
    text('title.choose_services', 'Services today'),
    text('title.choose_coordinator_wish', 'Wish for coordinator'),
    text('title.give_coordinator_wish', 'Who is wished for as coordinator'),
    text('title.give_contact_name', 'Your name'),
    text('title.give_phone', 'Phone number'),
    text('title.give_reach_time', 'Best time to call'),
    text('title.give_municipality', 'Municipality'),
    text('sharing.explained',
         'You decide what is shared with the coordinating unit. Press an answer to share '
         'it or not.'),
    text('ask_sharing', 'Press Done when you are ready.'),
    text('option.shared', '✓ Shared: {label}'),
    text('option.not_shared', '✗ Not shared: {label}'),
    text('receipt.sent',
         'Thank you! The request is sent to the coordinating unit in {municipality}. Your '
         'reference is {reference}.'),
    text('receipt.deadline',
         'The unit shall answer within a month, by {deadline}. If it cannot, you shall get'
         ' a written message about why and when you can expect an answer.'),
    text('receipt.complaint',
         'If you are refused but think you have the right to an individual plan and '
         'coordinator, you can complain to the Statsforvalter (formerly Fylkesmannen).'),
    text('receipt.next', 'Write /status to see the status, or /start to make a new request.'),
    text('sent.resting',
         'The request is sent. Write /status to see the status, or /start to begin again.'),
    text('cancelled.resting', 'The draft is deleted. Write /start if you want to begin again.'),
    text('ask_confirm_cancel',
         'Do you want to cancel? Then the draft and all your answers are deleted.'),
    text('option.yes_cancel', 'Yes, cancel and delete'),
    text('option.no_continue', 'No, continue'),
    text('ask_confirm_erase',
         'Do you want to delete everything Din plan has stored about you? It cannot be '
         'undone. What the municipality has already received, you must ask the '
         'municipality to delete.'),
    text('option.yes_erase', 'Yes, delete everything'),
    text('erased',
         'Everything Din plan had stored about you is deleted. What the coordinating unit '
         'already got, you must ask the unit to delete. Write /start to begin again.'),
    text('invalid.choose_option', 'Choose one of the options below.'),
    text('invalid.consent', 'Choose «Yes, I agree» to go on, or «No, thanks».'),
    text('invalid.write_name', 'Write the name in letters.'),
    text('invalid.name',
         'That does not look like a name. Write a name of at most {max} characters.'),
    text('invalid.write_answer', 'Write your answer, or choose one of the options.'),
    text('invalid.empty_answer',
         "The answer is empty. Write a few words, or choose «Don't know now»."),
    text('invalid.too_long', 'The answer is too long. Write at most {max} characters.'),
    text('invalid.choose_services', 'Press the services that fit, then «Done».'),
    text('invalid.write_phone', 'Write the phone number in digits.'),
    text('invalid.phone',
         'That does not look like a Norwegian phone number. Write for example 912 34 567 '
         'or +47 55 56 55 56.'),
    text('invalid.write_municipality', 'Write the name of the municipality.'),
    text('invalid.unsupported', 'I can only read text and button presses here.'),
    text('unknown_command', 'I do not know that command. Write /hjelp to see the commands.'),
    text('welcome_back', 'Welcome back! We continue where you left off.'),
    text('help.commands',
         'Commands:\n/tilbake – go one step back\n/hopp – skip the question\n/endre – look '
         'over and change the answers\n/sprak – switch between Bokmål and Nynorsk\n/om – '
         'about individual plan and coordinator\n/rettigheter – your rights\n/status – '
         'status of the request\n/mine_data – see what is stored about you\n/avbryt – cancel'
         ' and delete the draft\n/trekk_samtykke – withdraw your consent\n/slett – delete '
         'everything about you'),
    text('about.more_information',
         'Read more about individual plan and coordinator at helsenorge.no and '
         'helsedirektoratet.no.'),
    text('rights.plan',
         'If you need long-term and coordinated services, you have the right to an '
         'individual plan. This is in the Patient and User Rights Act § 2-5.'),
    text('rights.coordinator',
         'You also have the right to a coordinator, even if you say no to an individual '
         'plan.'),
    text('rights.consent',
         'The plan is only made if you consent. You decide what is shared between the '
         'services. A relative can take part or act on your behalf.'),
    text('rights.answer_within_a_month',
         'The municipality shall answer within a month. If it cannot, you shall get a '
         'written message about why and when you can expect an answer.'),
    text('rights.complaint',
         'If you are refused, you can complain to the Statsforvalter (formerly '
         'Fylkesmannen).'),
    text('status.not_sent', 'You have not sent any request yet.'),
    text('status.sent',
         'Request {reference} was sent on {sent_on}. The unit shall answer by {deadline}.'),
    text('back.not_possible', 'There is nothing to go back to here.'),
    text('skip.not_possible', 'This cannot be skipped.'),
    text('edit.not_yet',
         'You can look over and change all answers at the end. Write /tilbake to go one '
         'step back now.'),
    text('cancel.nothing_to_cancel', 'There is no draft to cancel.'),
    text('error.internal',
         'Sorry, something went wrong on our side. What you answered before is saved. '
         'Please try again.'),
    text('goodbye', 'Bye for now. Your answers are saved, and you can continue later.'),
    text('target_group.explained',
         'So that the request reaches the right office, I ask which group it concerns. You'
         ' do not need to name any diagnosis.'),
    text('ask_target_group.self', 'Which of these fits you best?'),
    text('ask_target_group.relative', 'Which of these fits {name} best?'),
    # NOTE: Target groups as Bergen's coordinating units split the work (Helse- og omsorgsetaten).
    text('target_group.elderly', 'Elderly'),
    text('target_group.disabled', 'People with disabilities'),
    text('target_group.somatic_illness', 'People with a physical illness'),
    text('target_group.intellectual_disability', 'People with an intellectual disability'),
    text('target_group.child_mental_health', 'Children and young people with mental illness'),
    text('target_group.adult_mental_health', 'Adults with mental illness'),
    text('target_group.unspecified', 'Not sure, or I would rather not say'),
    text('ask_district.self', 'Which part of the city do you live in?'),
    text('ask_district.relative', 'Which part of the city does {name} live in?'),
    text('option.place', '{name}'),
    text('review.target_group', 'Group: {group}.'),
    text('review.district', 'District: {district}.'),
    text('review.not_in_directory',
         'Din plan cannot send requests to {municipality} yet. You can save the draft and '
         'take it with you.'),
    text('review.ask_save', 'Do you want to save the draft now?'),
    text('option.save', 'Save'),
    text('receipt.saved_not_sent',
         'The draft is saved with reference {reference}. It is not sent, because Din plan '
         'cannot reach {municipality} yet.'),
    text('receipt.how_to_reach_the_unit',
         'Contact the coordinating unit in your municipality. If you do not know how, ask '
         'health personnel or call the switchboard of the municipality.'),
    text('receipt.sent_to_unit',
         'Thank you! The request is sent to {unit} in {municipality}. Your reference is '
         '{reference}.'),
    text('status.saved', 'Draft {reference} was saved on {sent_on}. It is not sent to any unit.'),
    text('status.received',
         'Request {reference} was sent on {sent_on}. The unit confirmed on {changed_on} '
         'that it has received it. It shall answer by {deadline}.'),
    text('status.in_progress',
         'The unit has worked on request {reference} since {changed_on}. It shall answer '
         'by {deadline}.'),
    text('status.closed',
         'The unit is done with request {reference}. It was closed on {changed_on}.'),
    text('title.choose_target_group', 'Group'),
    text('title.choose_district', 'District'),
    text('ask_confirm_withdraw',
         'Do you want to withdraw your consent? Then the draft is deleted, and nothing '
         'more is sent. What the unit already got, you must ask the unit about.'),
    text('option.yes_withdraw', 'Yes, withdraw consent'),
    text('consent.withdrawn',
         'You have said no to us storing your answers. What you wrote is deleted.'),
    text('consent.nothing_to_withdraw',
         'You have not given consent, so there is nothing to withdraw.'),
    text('my_data.sent', 'Here is everything Din plan has stored about you.'),
    # NOTE: Sent a week before an unsent draft is deleted, to those who asked for it. It must
    # never quote the draft.
    text('privacy.reminder',
         'Your draft in Din plan has not been sent. It will be deleted on {date}. Write /start '
         'to go on with it.'),
    # NOTE: The readable summary that comes with the file of /mine_data.
    text('privacy.export.heading', 'This is what Din plan has stored about you on {date}.'),
    text('privacy.export.nothing', 'Din plan has stored nothing about you.'),
    text('privacy.export.first_seen', 'You first wrote to Din plan on {date}.'),
    text('privacy.export.language', 'Written standard: {language}.'),
    text('privacy.export.consent',
         'You gave your consent on {date}. The privacy notice you agreed to is version '
         '{version}.'),
    text('privacy.export.declined', 'On {date} you said no to us storing your answers.'),
    text('privacy.export.no_consent', 'You have not given consent.'),
    text('privacy.export.reminder.yes',
         'You want a reminder before a draft you have not sent is deleted.'),
    text('privacy.export.reminder.no', 'You do not want reminders.'),
    text('privacy.export.draft',
         'Draft started on {started}. It is deleted on {deleted} if you do not send it.'),
    text('privacy.export.no_drafts', 'No draft or request is stored.'),
    text('privacy.export.unit_copy',
         'The coordinating unit keeps its own copy of what it got. Ask the unit if you want '
         'to see it or have it deleted.'),
    text('privacy.export.caption', 'Everything in one file, for a computer to read.'),
    text('privacy.export.saved_to', 'Everything is also saved in this file: {path}'),
    text('reminder.explained', 'If you do not send the draft within {days} days, it is deleted.'),
    text('ask_reminder', 'Do you want a reminder a week before?'),
    text('option.yes_remind', 'Yes, remind me'),
    text('option.no_remind', 'No reminder'),
)
