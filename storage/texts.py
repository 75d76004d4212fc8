"""Words of what storage makes for people: the headings and lines of the draft documents (PDF,
and the FHIR questionnaire's title) that only a document needs.

Everything else in a document is the dialog's own review lines (`dialogs.review`), so the PDF says
what the person saw before sending.
"""

from __future__ import annotations

from dialogs.messages import catalog, text

STORAGE_MESSAGES = catalog(
    text('document.title', 'Draft for an individual plan and a coordinator'),
    text('document.copy.citizen',
         'Your copy. Answers marked «not shared» were not sent to the coordinating unit.'),
    text('document.copy.unit',
         'Copy for the coordinating unit. It holds only the answers the person chose to share.'),
    text('document.not_sent', 'This draft has not been sent.'),
    text('document.heading.request', 'About the request'),
    text('document.heading.answers', 'Questions and answers'),
    text('document.heading.services', 'Services and coordinator'),
    text('document.heading.contact', 'Contact details'),
    text('document.heading.unit', 'Coordinating unit'),
    text('document.heading.next', 'What happens now'),
    text('document.target_group', 'Target group: {target_group}.'),
    text('document.district', 'District: {district}.'),
    text('document.unit', 'Sent to: {unit}.'),
    text('document.unit.address', 'Address: {address}.'),
    text('document.unit.phone', 'Phone: {phone}.'),
    text('document.not_in_directory',
         'Din plan cannot send requests to {municipality} yet. Contact the coordinating unit in '
         'the municipality yourself, and bring this draft. If you do not know how to reach the '
         'unit, ask the health personnel you see, or call the switchboard of the municipality or '
         'the hospital.'),
    text('document.page', 'Page {page} of {pages}'),
    # NOTE: Title of the six preparation questions (seed 001: «Hvordan kan du forberede deg?»).
    text('document.questionnaire', 'How can you prepare?'),
)
