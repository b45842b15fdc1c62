"""rubrics/words.py names the command words the domain's notices tell people to send: each is read by
the chat's parser as that very command word, alone and with an argument."""

from __future__ import annotations

import pytest

from dialogs.engine import UserInput
from dialogs.router import parse
from rubrics import words


@pytest.mark.parametrize(("name", "word"), sorted(words.ALL.items()))
def test_every_command_word_constant_is_parsed_as_that_word(name: str, word: str) -> None:
    alone = parse(UserInput("text", word))
    assert (alone.kind, alone.word) == ("word", word), name
    with_argument = parse(UserInput("text", f"{word} 3201001"))
    assert (with_argument.kind, with_argument.word) == ("word", word), name


def test_the_words_are_every_constant_of_the_module() -> None:
    constants = {name for name in vars(words) if name.isupper() and name != "ALL"}
    assert set(words.ALL) == constants
    assert len(set(words.ALL.values())) == len(words.ALL)  # no word named twice
    assert words.OBJECTION == "异议" and words.SELF_CHECK == "自评"
