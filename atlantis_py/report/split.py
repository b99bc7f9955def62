"""Split a comment that is longer than the forge accepts into numbered parts.

GitHub refuses comment bodies over 65,536 characters and a plan for many
projects easily exceeds that. Cutting the text blindly would leave a part that
ends inside a ```diff block, so the rest of the page renders as code. Here
every part closes what it left open (code fence, ``<details>``) and the next
part reopens it, so each part renders on its own and the concatenated content
is still the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_LINE = re.compile(r"[^\n]*\n|[^\n]+")
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>`{3,}|~{3,})(?P<info>[^\n]*)\n?$")
_DETAILS_TAG = re.compile(r"<(?P<close>/?)details\b[^>]*>", re.IGNORECASE)
_SUMMARY = re.compile(r"<summary>(?P<text>.*?)</summary>", re.IGNORECASE)


@dataclass(frozen=True)
class _Fence:
    """An open code fence; `opening` is its line as written, reused to reopen it."""

    indent: str
    marker: str
    opening: str

    def closes_on(self, line: str) -> bool:
        text = line.strip(" \t\n")
        char = self.marker[0]
        return len(text) >= len(self.marker) and text == char * len(text)


@dataclass(frozen=True)
class _Open:
    """What is open at a point of the body: ``<details>`` summaries (outermost
    first; None while the summary is not seen yet) and at most one fence, which
    is always innermost because HTML inside a fence is just text."""

    details: tuple[str | None, ...] = ()
    fence: _Fence | None = None

    def after(self, line: str) -> _Open:
        if self.fence is not None:
            return _Open(self.details, None) if self.fence.closes_on(line) else self
        match = _FENCE.match(line)
        if match and not (match["marker"][0] == "`" and "`" in match["info"]):
            opening = line.rstrip("\n")
            return _Open(self.details, _Fence(match["indent"], match["marker"], opening))
        return _Open(self._details_after(line), None)

    def _details_after(self, line: str) -> tuple[str | None, ...]:
        stack = list(self.details)
        for tag in _DETAILS_TAG.finditer(line):
            if tag["close"]:
                if stack:
                    stack.pop()
                continue
            summary = _SUMMARY.search(line, tag.end())
            stack.append(summary["text"] if summary else None)
        if stack and stack[-1] is None:
            summary = _SUMMARY.search(line)
            if summary:
                stack[-1] = summary["text"]
        return tuple(stack)

    def reopen(self) -> str:
        text = "".join(
            f"<details><summary>{summary or 'Details'} (continued)</summary>\n\n"
            for summary in self.details
        )
        if self.fence is not None:
            text += self.fence.opening + "\n"
        return text

    def close(self, *, after_newline: bool) -> str:
        text = ""
        if self.fence is not None:
            text += self.fence.indent + self.fence.marker + "\n"
        text += "</details>\n" * len(self.details)
        if text and not after_newline:
            text = "\n" + text
        return text


@dataclass(frozen=True)
class CommentPart:
    """One comment of a split body. `content` is a slice of the original text;
    `reopened` and `closed` are the markup added around it so it renders alone."""

    number: int
    total: int
    content: str
    reopened: str = ""
    closed: str = ""

    @property
    def header(self) -> str:
        return _header(self.number, self.total) if self.total > 1 else ""

    @property
    def text(self) -> str:
        return self.header + self.reopened + self.content + self.closed


@dataclass
class _Chunk:
    start: _Open
    lines: list[str] = field(default_factory=list)
    size: int = 0


def _header(number: int, total: int) -> str:
    return f"**Part {number} of {total}**\n\n"


def split_comment(body: str, limit: int) -> list[str]:
    """Return `body` as comments of at most `limit` characters each."""
    return [part.text for part in split_parts(body, limit)]


def split_parts(body: str, limit: int) -> list[CommentPart]:
    """Like split_comment, keeping the added markup apart from the content.

    The header's width depends on the number of parts, so the split is redone
    with a wider header in the rare case the count gains a digit."""
    if len(body) <= limit:
        return [CommentPart(1, 1, body)]
    digits = 1
    while True:
        widest = "9" * digits
        chunks = _chunks(body, limit - len(_header(int(widest), int(widest))))
        if len(str(len(chunks))) <= digits:
            break
        digits += 1
    total = len(chunks)
    parts = []
    for number, (start, content, end) in enumerate(chunks, start=1):
        closed = end.close(after_newline=(start.reopen() + content).endswith("\n"))
        parts.append(CommentPart(number, total, content, start.reopen(), closed))
    return parts


def _chunks(body: str, budget: int) -> list[tuple[_Open, str, _Open]]:
    """Greedy fill by whole lines; a line that does not fit in an empty part is
    cut at the character that fills it. (A fence or <details> line cut that way
    is no longer recognised; only a limit near a line's length could do that.)"""
    lines = _LINE.findall(body)
    lines.reverse()
    done: list[tuple[_Open, str, _Open]] = []
    state = _Open()
    chunk = _Chunk(state, size=len(state.reopen()))
    while lines:
        line = lines.pop()
        after = state.after(line)
        closing = after.close(after_newline=line.endswith("\n"))
        if chunk.size + len(line) + len(closing) <= budget:
            chunk.lines.append(line)
            chunk.size += len(line)
            state = after
            continue
        if not chunk.lines:
            room = budget - chunk.size - len(state.close(after_newline=False))
            if room < 1:
                raise ValueError(f"limit too small to split this comment: {budget}")
            chunk.lines.append(line[:room])
            lines.append(line[room:])
            chunk.size += room
            continue
        lines.append(line)
        done.append((chunk.start, "".join(chunk.lines), state))
        chunk = _Chunk(state, size=len(state.reopen()))
    done.append((chunk.start, "".join(chunk.lines), state))
    return done
