"""Text before speech: Markdown removed, pieces cut at sentence ends and never too long."""

from __future__ import annotations

from services.tts.text import speakable, split_text


def test_markdown_is_not_read_aloud() -> None:
    text = (
        "# Title\n**Bold** and `code` with [a link](https://x.y/z).\n```py\nprint(1)\n```\n- item"
    )
    assert speakable(text) == "Title\nBold and code with a link.\n(code omitted)\nitem"
    assert speakable("see https://example.com/a?b=c now") == "see (link) now"


def test_pieces_end_at_sentences_and_keep_every_word() -> None:
    text = "One two three. Four five six! Seven eight nine? Ten."
    assert split_text(text, 30) == ["One two three. Four five six!", "Seven eight nine? Ten."]
    assert split_text(text, 1000) == [text]


def test_overlong_sentences_are_cut_at_clauses_then_spaces_then_anywhere() -> None:
    sentence = "alpha beta, gamma delta, epsilon zeta eta theta iota kappa lambda"
    pieces = split_text(sentence, 20)
    assert all(len(p) <= 20 for p in pieces)
    assert " ".join(pieces).split() == sentence.split()
    assert pieces[:2] == ["alpha beta,", "gamma delta,"]
    assert split_text("x" * 45, 20) == ["x" * 20, "x" * 20, "x" * 5]
    assert split_text("", 20) == [] and split_text("\n \n", 20) == []
