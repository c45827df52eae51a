"""The chunker: budgets, overlap, and page/heading boundaries kept for citing."""

from __future__ import annotations

import itertools

import pytest

from services.worker.knowledge.chunker import chunk, sections

SENTENCE = "The quick brown fox number {} jumps over the lazy dog near the river bank. "


def sentences(n: int, start: int = 0) -> str:
    return "".join(SENTENCE.format(i) for i in range(start, start + n)).strip()


def test_a_chunk_never_spans_two_pages_or_headings() -> None:
    segments = [
        {"text": "Short intro.", "page": 1, "heading": None},
        {"text": "Still page one.", "page": 1, "heading": None},
        {"text": "Page two text.", "page": 2, "heading": None},
        {"text": "Under a heading.", "page": 2, "heading": "Setup"},
        {"text": "", "page": 3, "heading": None},  # empty: nothing to index
    ]
    chunks = chunk(segments)
    assert [(c.page, c.heading, c.text) for c in chunks] == [
        (1, None, "Short intro.\n\nStill page one."),
        (2, None, "Page two text."),
        (2, "Setup", "Under a heading."),
    ]
    assert [c.ordinal for c in chunks] == [0, 1, 2]
    assert chunks[2].embedding_text() == "Setup\nUnder a heading."


def test_long_text_is_cut_at_sentences_within_budget_with_overlap() -> None:
    text = sentences(60)  # ~4,500 characters, one paragraph
    chunks = chunk([{"text": text, "page": 7, "heading": "Long"}], target=1000, overlap=150)
    assert len(chunks) >= 5
    assert all(len(c.text) <= 1000 for c in chunks)
    assert all((c.page, c.heading) == (7, "Long") for c in chunks)
    for before, after in itertools.pairwise(chunks):
        assert after.text.split(". ")[0] + "." in before.text  # starts inside the one before
        assert after.text.startswith("The quick")  # at a sentence, never mid-word
    # Nothing is lost: every sentence is in some chunk.
    assert all(f"number {i} " in "".join(c.text for c in chunks) for i in range(60))


def test_a_word_longer_than_the_budget_is_cut_and_paragraphs_stay_whole() -> None:
    chunks = chunk([{"text": "x" * 2500 + "\n\nA paragraph.", "page": None}], target=1000)
    assert all(len(c.text) <= 1000 for c in chunks)
    assert "".join(c.text for c in chunks).count("x") >= 2500
    assert chunks[-1].text.endswith("\n\nA paragraph.") or chunks[-1].text == "A paragraph."
    assert all(c.page is None and c.heading is None for c in chunks)


def test_bad_pages_are_dropped_and_overlap_is_checked() -> None:
    assert sections([{"text": "a", "page": 0}, {"text": "b", "page": "2"}]) == [
        (None, None, "a\n\nb")
    ]
    with pytest.raises(ValueError, match="overlap"):
        chunk([], target=100, overlap=60)
