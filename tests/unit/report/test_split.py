"""split_comment: every part fits, renders on its own, and nothing is lost."""

from __future__ import annotations

import random
import re

import pytest

from atlantis_py.report.split import split_comment, split_parts

_HEADER = re.compile(r"^\*\*Part (\d+) of (\d+)\*\*\n\n")
_FENCE_LINE = re.compile(r"^[ \t]*(`{3,}|~{3,})([^\n]*)$")


def scan(text: str) -> tuple[str | None, int]:
    """An independent, line-based reading of `text`: the marker of the fence
    still open at its end (None when all are closed) and how many <details>
    outside fences are still open, checking that none closes before it opens."""
    marker: str | None = None
    depth = 0
    for line in text.split("\n"):
        match = _FENCE_LINE.match(line)
        if marker is not None:
            if match and match[1][0] == marker[0] and len(match[1]) >= len(marker):
                marker = None if not match[2].strip() else marker
            continue
        if match and not (match[1][0] == "`" and "`" in match[2]):
            marker = match[1]
            continue
        depth += len(re.findall(r"<details\b", line)) - len(re.findall(r"</details>", line))
        assert depth >= 0
    return marker, depth


def random_body(rng: random.Random, size: int) -> str:
    """Markdown shaped like our comments: prose, fenced output (some indented,
    some with ~~~ or longer fences), <details> around output, very long lines."""
    out: list[str] = []
    length = 0
    words = ["plan", "apply", "+", "-", "~", "resource", "`x`", "<b>", "#", "  ", "*"]
    while length < size:
        kind = rng.random()
        if kind < 0.3:
            chunk = " ".join(rng.choice(words) for _ in range(rng.randint(0, 15))) + "\n"
        elif kind < 0.75:
            marker = rng.choice(["```", "```", "````", "~~~"])
            indent = rng.choice(["", "", "  "])
            info = rng.choice(["", "diff", "hcl", "json"])
            body = "".join(
                " ".join(rng.choice(words) for _ in range(rng.randint(0, 12))) + "\n"
                for _ in range(rng.randint(0, 40))
            )
            chunk = f"{indent}{marker}{info}\n{body}{indent}{marker}\n"
            if rng.random() < 0.4:
                chunk = f"<details><summary>Show Output</summary>\n\n{chunk}\n</details>\n"
        elif kind < 0.85:
            chunk = "x" * rng.randint(50, 3000) + rng.choice(["\n", ""]) + "\n"
        else:
            chunk = "\n" * rng.randint(1, 4)
        out.append(chunk)
        length += len(chunk)
    text = "".join(out)
    return text if rng.random() < 0.5 else text.rstrip("\n")


def check_split(body: str, limit: int) -> list[str]:
    parts = split_comment(body, limit)
    structured = split_parts(body, limit)
    assert [p.text for p in structured] == parts
    assert all(len(part) <= limit for part in parts)
    assert "".join(p.content for p in structured) == body
    if len(body) <= limit:
        assert parts == [body]
        return parts
    assert len(parts) > 1
    for number, part in enumerate(parts, start=1):
        header = _HEADER.match(part)
        assert header is not None
        assert header.groups() == (str(number), str(len(parts)))
        rest = part[header.end() :]
        assert scan(rest) == (None, 0), f"part {number} leaves a fence or <details> open"
        content = structured[number - 1].content
        assert rest.startswith(structured[number - 1].reopened)
        assert rest.endswith(structured[number - 1].closed)
        assert content in rest
    return parts


@pytest.mark.parametrize("seed", range(60))
def test_random_bodies_split_into_balanced_parts(seed: int) -> None:
    rng = random.Random(seed)
    body = random_body(rng, rng.randint(100, 30_000))
    assert scan(body) == (None, 0)
    for limit in (rng.randint(300, 1_000), rng.randint(1_000, 5_000), 20_000, 65_536):
        check_split(body, limit)


def test_short_body_is_returned_unchanged() -> None:
    assert split_comment("hello", 5) == ["hello"]
    assert split_comment("", 10) == [""]


def test_split_inside_diff_fence_closes_and_reopens_with_info_string() -> None:
    body = "Ran Plan\n\n```diff\n" + "".join(f"+ line {i}\n" for i in range(50)) + "```\n"
    parts = check_split(body, 200)
    assert parts[0].endswith("```\n")
    assert parts[1].startswith("**Part 2 of")
    assert "\n\n```diff\n+ line" in parts[1]


def test_split_inside_details_reopens_it_as_continued() -> None:
    body = (
        "<details><summary>Show Output</summary>\n\n```diff\n"
        + "".join(f"+ line {i}\n" for i in range(60))
        + "```\n\n</details>\n"
    )
    parts = check_split(body, 250)
    assert parts[0].endswith("```\n</details>\n")
    assert "<details><summary>Show Output (continued)</summary>\n\n```diff\n" in parts[1]


def test_long_line_is_hard_split() -> None:
    body = "a" * 1_000 + "\n" + "```\n" + "b" * 1_000 + "\n```\n"
    parts = check_split(body, 120)
    assert len(parts) > 15


def test_two_hundred_thousand_characters_at_github_limit() -> None:
    rng = random.Random(200)
    body = random_body(rng, 200_000)
    parts = check_split(body, 65_536)
    assert 3 <= len(parts) <= 5
    assert all(len(part) > 60_000 for part in parts[:-1])


def test_header_widens_when_part_count_gains_a_digit() -> None:
    body = "".join(f"line {i:04d}\n" for i in range(400))
    parts = check_split(body, 60)
    assert len(parts) >= 100
    assert parts[-1].startswith(f"**Part {len(parts)} of {len(parts)}**")


def test_limit_too_small_for_the_markup_is_an_error() -> None:
    """The summary fits on its line but not again, with the fence, after a header."""
    body = "<details><summary>" + "s" * 90 + "</summary>\n\n```diff\n" + "x\n" * 200 + "```\n"
    with pytest.raises(ValueError, match="limit too small"):
        split_comment(body, 150)
