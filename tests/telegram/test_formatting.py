"""Markdown → Telegram HTML, and splitting, checked with the same HTML parser the fake Bot API
uses (tags Telegram knows, properly nested, only its entities)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.telegram.formatting import strip_to_plain, to_telegram_html
from services.telegram.splitting import split_message, split_plain
from tests.faketelegram import parse_html, well_formed


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("**bold** and __bold__", "<b>bold</b> and <b>bold</b>"),
        ("*italic* and _italic_", "<i>italic</i> and <i>italic</i>"),
        ("~~gone~~", "<s>gone</s>"),
        ("***both***", "<b><i>both</i></b>"),
        ("**bold _italic_ bold**", "<b>bold <i>italic</i> bold</b>"),
        ("snake_case_name and __init__.py", "snake_case_name and <b>init</b>.py"),
        ("my_var_name_here", "my_var_name_here"),
        ("2 * 3 * 4", "2 * 3 * 4"),
        ("a_b *c", "a_b *c"),
        ("**unclosed bold", "**unclosed bold"),
        ("_half", "_half"),
        ("`unclosed code", "`unclosed code"),
        ("a **** b", "a **** b"),
        ("*italic* at line start", "<i>italic</i> at line start"),
        ("**a**b**c**", "<b>a</b>b<b>c</b>"),
        ("~single~", "~single~"),
        ("`x < y && z`", "<code>x &lt; y &amp;&amp; z</code>"),
        ("`**not bold**`", "<code>**not bold**</code>"),
        ("`` a ` b ``", "<code>a ` b</code>"),
        ("<script>alert(1)</script> & co", "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"),
        ("&amp; stays literal", "&amp;amp; stays literal"),
        (r"\*not italic\*", "*not italic*"),
        (
            "[AION](https://example.com/a_b?x=1&y=2)",
            '<a href="https://example.com/a_b?x=1&amp;y=2">AION</a>',
        ),
        ("[**bold** link](http://x.io)", '<a href="http://x.io"><b>bold</b> link</a>'),
        ("[mail](mailto:me@example.com)", '<a href="mailto:me@example.com">mail</a>'),
        ("[user](tg://user?id=7000000001)", '<a href="tg://user?id=7000000001">user</a>'),
        ("[x](javascript:alert(1))", "[x](javascript:alert(1))"),
        ("[rel](/docs/page)", "[rel](/docs/page)"),
        (
            '[q](https://x.io/"onmouseover=")',
            '<a href="https://x.io/&quot;onmouseover=&quot;">q</a>',
        ),
        (
            "[wiki](https://en.wikipedia.org/wiki/Foo_(bar))",
            '<a href="https://en.wikipedia.org/wiki/Foo_(bar)">wiki</a>',
        ),
        ("[not a link]", "[not a link]"),
        ("# Title", "<b>Title</b>"),
        ("### **Already** bold ###", "<b><b>Already</b> bold</b>"),
        ("#hashtag", "#hashtag"),
        ("- one\n* two\n+ three", "• one\n• two\n• three"),
        ("  - nested", "  • nested"),
        ("1. first\n2) second", "1. first\n2) second"),
        ("> quoted *text*\n> more", "<blockquote>quoted <i>text</i>\nmore</blockquote>"),
        ("a\n\n\n\nb", "a\n\nb"),
        ("---", "──────────"),
        ("```\nplain <code>\n```", "<pre>plain &lt;code&gt;</pre>"),
        (
            "```python\ndef f(x):\n    return x**2  # _not_ italic\n```",
            '<pre><code class="language-python">def f(x):\n    return x**2  # _not_ italic'
            "</code></pre>",
        ),
        ("~~~js\nlet a = 1;\n~~~", '<pre><code class="language-js">let a = 1;</code></pre>'),
        ("```py\nnever closed", "```py\nnever closed"),
        (
            "1. Run:\n   ```bash\n   ls -l\n     indented\n   ```\n2. Done",
            '1. Run:\n<pre><code class="language-bash">ls -l\n  indented</code></pre>\n2. Done',
        ),
        ("text\n```\ncode\n```\nafter **b**", "text\n<pre>code</pre>\nafter <b>b</b>"),
    ],
)
def test_to_telegram_html(markdown: str, html: str) -> None:
    assert to_telegram_html(markdown) == html
    assert well_formed(html)


def test_crossed_markers_stay_well_formed() -> None:
    for markdown in ("**a *b** c*", "_a **b_ c**", "~~a **b~~ c**", "***a** b*", "*a **b* c**"):
        html = to_telegram_html(markdown)
        assert well_formed(html), (markdown, html)
        assert squeeze(parse_html(html)).replace("*", "").replace("_", "").replace(
            "~", ""
        ) == squeeze(markdown).replace("*", "").replace("_", "").replace("~", "")


@pytest.mark.parametrize(
    ("markdown", "plain"),
    [
        ("**bold** _it_ ~~s~~ `code`", "bold it s code"),
        ("# Head\n- item\n> quote", "Head\n• item\nquote"),
        (
            "[AION](https://a.io) and [https://b.io](https://b.io)",
            "AION (https://a.io) and https://b.io",
        ),
        ("```python\nx = 1 < 2\n```", "x = 1 < 2"),
        ("a < b & c", "a < b & c"),
        ("snake_case_name **open", "snake_case_name **open"),
    ],
)
def test_strip_to_plain(markdown: str, plain: str) -> None:
    assert strip_to_plain(markdown) == plain


MARKERS = ["**", "__", "~~", "```", "```py\n", "\n\n", "- ", "> ", "# "]
ALPHABET = [*"*_~`[]()#>-+.!?\n \\&<>\"'", *MARKERS]
WORDS = [
    "word",
    "snake_case",
    "https://x.io/a_b",
    "[l](https://e.io)",
    "[j](javascript:x)",
    "😀",
    "ü",
    "1.",
    "&amp;",
    "<b>",
]


MARKDOWN = st.lists(
    st.sampled_from(ALPHABET) | st.sampled_from(WORDS) | st.text(max_size=4), max_size=80
).map("".join)


@settings(deadline=None, max_examples=300)
@given(MARKDOWN)
def test_any_markdown_becomes_well_formed_html(markdown: str) -> None:
    html = to_telegram_html(markdown)
    assert well_formed(html), (markdown, html)
    assert not re.search(r"<([\w-]+)[^>]*></\1>", html), (markdown, html)
    plain = strip_to_plain(markdown)
    assert "<b>" not in plain or "<b>" in markdown


# --- splitting ---------------------------------------------------------------------------


def check_chunks(html: str, chunks: list[str], limit: int) -> None:
    """Each chunk fits, parses alone, and together they hold all the visible text."""
    for chunk in chunks:
        assert len(chunk) <= limit, (len(chunk), chunk)
        assert well_formed(chunk), chunk
        assert parse_html(chunk).strip()
        assert not re.search(r"<([\w-]+)[^>]*></\1>", chunk), chunk  # no empty elements
    assert squeeze("".join(parse_html(c) for c in chunks)) == squeeze(parse_html(html))


def test_short_message_is_one_chunk() -> None:
    html = to_telegram_html("**hi** there")
    assert split_message(html) == [html]
    assert split_message("") == []
    assert split_message("  \n ") == []


@pytest.mark.parametrize("extra", [-1, 0, 1, 2])
def test_lengths_around_the_limit(extra: int) -> None:
    limit = 4000
    text = ("x" * 99 + " ") * 40  # 4000 characters, a space every 100
    text = text[: limit + extra].rstrip() if extra <= 0 else text + "y" * extra
    chunks = split_message(text, limit)
    assert len(chunks) == (1 if len(text) <= limit else 2)
    check_chunks(text, chunks, limit)
    plain = split_plain(text, limit)
    assert len(plain) == len(chunks) and all(len(c) <= limit for c in plain)


def test_default_limit_keeps_a_margin_below_telegram() -> None:
    chunks = split_message("word " * 5000)
    assert all(len(c) <= 4000 for c in chunks) and len(chunks) == 7


def test_prefers_paragraphs_then_lines_then_sentences_then_spaces() -> None:
    paragraphs = "\n\n".join(f"Paragraph {i} " + "a" * 50 for i in range(6))
    chunks = split_message(paragraphs, 150)
    assert all(c.startswith("Paragraph") and c.endswith("a") for c in chunks)
    assert len(chunks) == 3  # two paragraphs each

    lines = "\n".join(f"line {i} " + "b" * 30 for i in range(10))
    assert all(c.startswith("line") for c in split_message(lines, 100))

    sentences = " ".join(f"Sentence number {i} ends here." for i in range(20))
    for chunk in split_message(sentences, 120)[:-1]:
        assert chunk.endswith("."), chunk

    spaces = " ".join("w" * 7 for _ in range(50))
    for chunk in split_message(spaces, 50):
        assert not chunk.startswith(" ") and not chunk.endswith(" ")
        assert all(len(word) == 7 for word in chunk.split(" "))


def test_paragraph_break_not_taken_when_it_would_waste_a_message() -> None:
    html = "Short.\n\n" + " ".join(["word"] * 200)
    chunks = split_message(html, 200)
    assert len(chunks[0]) > 150  # not just "Short."


def test_long_code_block_is_continued_in_every_chunk() -> None:
    code = "\n".join(
        f"    value_{i} = compute({i}) < limit && ok  # *not* formatted" for i in range(300)
    )
    html = to_telegram_html(f"Intro **text**.\n\n```python\n{code}\n```\n\nOutro.")
    chunks = split_message(html, 1000)
    check_chunks(html, chunks, 1000)
    middle = [c for c in chunks if "value_" in c]
    assert len(middle) > 5
    for chunk in middle:
        assert chunk.count('<pre><code class="language-python">') == 1
        assert chunk.endswith("</code></pre>") or chunk.endswith("Outro.")
        assert "&lt;" in chunk and "&amp;&amp;" in chunk
    # The code lines are intact: breaks fell between lines, not inside them.
    lines = [line for c in middle for line in parse_html(c).split("\n") if "value_" in line]
    assert lines == code.split("\n")


def test_split_inside_bold_reopens_it() -> None:
    html = "<b>" + " ".join(["bold"] * 100) + "</b> tail"
    chunks = split_message(html, 120)
    check_chunks(html, chunks, 120)
    assert all(c.startswith("<b>") for c in chunks)
    assert all(c.endswith("</b>") for c in chunks[:-1])


def test_element_ending_at_the_break_is_not_reopened() -> None:
    html = "<i>" + "word " * 20 + "</i> after"
    chunks = split_message(html, 107)
    check_chunks(html, chunks, 107)
    assert chunks[-1] == "after"


def test_nested_elements_are_reopened_with_attributes() -> None:
    html = (
        '<blockquote><a href="https://e.io/?a=1&amp;b=2"><i>'
        + "link text " * 60
        + "</i></a></blockquote>"
    )
    chunks = split_message(html, 200)
    check_chunks(html, chunks, 200)
    for chunk in chunks:
        assert chunk.startswith('<blockquote><a href="https://e.io/?a=1&amp;b=2"><i>')
        assert chunk.endswith("</i></a></blockquote>")


def test_word_longer_than_the_limit_is_hard_split_between_entities() -> None:
    html = "<code>" + "&amp;x" * 500 + "</code>"
    chunks = split_message(html, 100)
    check_chunks(html, chunks, 100)
    assert all(re.fullmatch(r"<code>(&amp;|x)+</code>", c) for c in chunks)
    plain = split_plain("y" * 1000, 64)
    assert [len(c) for c in plain] == [64] * 15 + [40]


def test_emoji_and_unicode_are_kept_whole() -> None:
    text = "😀ü" * 3000
    chunks = split_message(text, 500)
    assert "".join(chunks) == text


def test_limit_too_small_for_the_markup() -> None:
    with pytest.raises(ValueError, match="too small"):
        split_message('<a href="https://example.com/a/long/url">text that is long</a>', 20)


@settings(deadline=None, max_examples=300)
@given(MARKDOWN, st.integers(min_value=60, max_value=400))
def test_any_answer_splits_into_well_formed_parts_within_the_limit_losing_nothing(
    markdown: str, limit: int
) -> None:
    html = to_telegram_html(markdown)
    check_chunks(html, split_message(html, limit), limit)


@settings(deadline=None, max_examples=300)
@given(
    st.lists(
        st.sampled_from(["word", " ", "\n", "\n\n", ". ", "x" * 30, "ü", "😀"]) | st.text(),
        max_size=300,
    ).map("".join),
    st.integers(min_value=20, max_value=300),
)
def test_plain_text_splits_within_the_limit_losing_nothing(text: str, limit: int) -> None:
    chunks = split_plain(text, limit)
    assert all(0 < len(c) <= limit and c.strip() for c in chunks)
    assert squeeze("".join(chunks)) == squeeze(text)
