"""Messages as Telegram takes them: HTML-safe, at most 4,096 characters, as few as fit."""

from __future__ import annotations

import re

import pytest

from bot.telegram.formatting import MAX_LENGTH, escape, length, pack, split_text
from dialogs.messages import MESSAGES
from dialogs.render import RenderedOption, RenderedReply
from locales import LANGUAGES, translations


def reply(text: str, *options: str, expect: str = "nothing") -> RenderedReply:
    return RenderedReply(text, tuple(RenderedOption(o, o.title()) for o in options),
                         "choice" if options and expect == "nothing" else expect)


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_text_is_safe_in_html_parse_mode(language: str) -> None:
    """Only parameters are escaped, so no catalog text may hold `<`, `>` or `&`."""
    catalog = translations(language)
    for key, message in MESSAGES.items():
        for text in (message.source, catalog.pgettext(key, message.source)):
            assert isinstance(text, str)  # Babel annotates pgettext as `str | object`
            assert not re.search(r"[<>&]", text), (language, key, text)


def test_escape_makes_markup_literal() -> None:
    assert escape("<b>Fet</b> & «sterk» 💪 áčđŋšŧž") == \
        "&lt;b&gt;Fet&lt;/b&gt; &amp; «sterk» 💪 áčđŋšŧž"


def test_length_counts_like_telegram() -> None:
    assert length("abc") == 3
    assert length("áčđŋšŧž") == 7  # in the BMP: one each
    assert length("💪🏽") == 4  # outside it: two UTF-16 code units each


def test_short_text_is_one_piece() -> None:
    assert split_text("Hei. Hallo.") == ["Hei. Hallo."]


def test_long_text_is_cut_after_sentences() -> None:
    text = " ".join(f"Setning nummer {n} er her." for n in range(400))
    pieces = split_text(text, 100)
    assert all(length(piece) <= 100 for piece in pieces)
    assert all(piece.endswith("er her.") for piece in pieces)
    assert " ".join(pieces) == text


def test_a_sentence_without_end_is_cut_between_words() -> None:
    text = "ord " * 100
    pieces = split_text(text.strip(), 30)
    assert all(length(p) <= 30 and not p.startswith(" ") and p.endswith("ord") for p in pieces)
    assert " ".join(pieces) == text.strip()


def test_a_word_longer_than_a_message_is_cut_anywhere_but_inside_an_entity() -> None:
    text = "a" * 9 + "&amp;" + "b" * 20
    pieces = split_text(text, 12)
    assert pieces[0] == "a" * 9
    assert pieces[1].startswith("&amp;")
    assert "".join(pieces) == text
    assert all(length(p) <= 12 for p in pieces)


def test_emoji_are_never_split_and_count_double() -> None:
    pieces = split_text("💪" * 5000)
    assert [length(p) for p in pieces] == [4096, 4096, 1808]


def test_a_turn_is_joined_into_one_message_with_the_keyboard() -> None:
    messages = pack([reply("Velkommen."), reply("Om planen."), reply("Vil du gå videre?", "yes")])
    assert len(messages) == 1
    assert messages[0].text == "Velkommen.\n\nOm planen.\n\nVil du gå videre?"
    assert [o.id for o in messages[0].options] == ["yes"]


def test_text_after_a_question_starts_a_new_message() -> None:
    messages = pack([reply("Spørsmål?", "a", "b"), reply("Skriv /hjelp.")])
    assert [m.text for m in messages] == ["Spørsmål?", "Skriv /hjelp."]
    assert messages[0].options
    assert not messages[1].options


def test_replies_that_do_not_fit_together_are_not_cut() -> None:
    first, second = "A. " * 1300, "B. " * 500
    messages = pack([reply(first.strip()), reply(second.strip(), "ok")])
    assert [m.text for m in messages] == [first.strip(), second.strip()]
    assert messages[1].options


def test_a_reply_longer_than_a_message_fills_the_current_one() -> None:
    long = ("Mat og drikke. " * 400).strip()
    messages = pack([reply("Overskrift."), reply(long), reply("Sende?", "send")])
    assert len(messages) == 2
    assert messages[0].text.startswith("Overskrift.\n\nMat og drikke.")
    assert all(length(m.text) <= MAX_LENGTH for m in messages)
    assert messages[1].text.endswith("Sende?")
    assert messages[1].options


def test_the_phone_question_ends_its_message_even_without_options() -> None:
    messages = pack([reply("Telefon?", expect="phone"), reply("Mer.")])
    assert messages[0].asks_for_phone
    assert not messages[1].asks_for_phone
