"""Reading a big JSON array one element at a time (elle-cli's history files).

elle-cli's JSON history is one top-level array of operation objects, commonly a million
transactions (two million operations, several hundred MB). `json.loads` of the whole
text holds the text and every operation's dict at once (about 4 GB for a million
transactions), while the pairing into transactions needs only the invocations still
open. `iter_json_array(path)` decodes the array's elements one by one from a window of
the file (`json.JSONDecoder.raw_decode` on 1 MB chunks), so memory is the window plus
what the consumer keeps. Malformed input is a `BadInput` naming the file and the line,
as `json.loads` would have it.
"""

from __future__ import annotations

import json
import time
from typing import Any, Iterator

from gtcheck.errors import BadInput
from results.history import ReadTimedOut

CHUNK_CHARS = 1 << 20
_WS = " \t\n\r"


class _Window:
    """The part of the file not yet decoded, with the line number of its start."""

    def __init__(self, fh: Any, source: str):
        self.fh, self.source = fh, source
        self.buf, self.pos, self.line, self.eof = "", 0, 1, False
        self.read = 0  # characters read so far

    def more(self) -> bool:
        """Append the next chunk (dropping what was decoded); False at end of file."""
        if self.eof:
            return False
        try:  # at least doubling what is held: an element longer than a chunk (or a
            # malformed one, which only the end of the file shows) costs linear time
            chunk = self.fh.read(max(CHUNK_CHARS, len(self.buf) - self.pos))
        except UnicodeDecodeError:
            raise BadInput(f"{self.source}: not UTF-8 text") from None
        if not chunk:
            self.eof = True
            return False
        nul = chunk.find("\x00")
        if nul >= 0:  # not text (/dev/zero stops here, in bounded memory)
            raise BadInput(f"{self.source}: not a text file (a NUL byte at character "
                           f"{self.read + nul})")
        self.read += len(chunk)
        self.line += self.buf.count("\n", 0, self.pos)
        self.buf, self.pos = self.buf[self.pos:] + chunk, 0
        return True

    def skip_ws(self) -> str:
        """The next non-blank character ("" at end of file), not consumed."""
        while True:
            buf, n = self.buf, len(self.buf)
            pos = self.pos
            while pos < n and buf[pos] in _WS:
                pos += 1
            self.pos = pos
            if pos < n:
                return buf[pos]
            if not self.more():
                return ""

    def bad(self, what: str, pos: int | None = None) -> BadInput:
        pos = self.pos if pos is None else pos
        line = self.line + self.buf.count("\n", 0, pos)
        return BadInput(f"{self.source}: not valid JSON ({what} at line {line})")


BATCH_CUTS_TRIED = 8  # candidate ends of a batch looked at before decoding one by one


def _batch(w: _Window, decode: Any) -> list | None:
    """The window's elements from `w.pos` up to the last one ending in `}` that a comma
    follows, decoded by one `decode` call (C-level: a per-element call costs as much as
    the decoding), and `w.pos` moved to that comma; None (nothing moved) when there is
    no such end or the text there does not decode, and then the caller decodes element
    by element, which names any problem exactly.

    Why a successful decode of "[" + text + "]" is the same elements: the text starts at
    an element, and a cut at a `}` inside a string leaves that string unterminated, a cut
    inside a nested value leaves a bracket unclosed (either fails to decode), so a cut
    that decodes ends a top-level element, and a cut just before a comma never splits a
    number."""
    buf, pos = w.buf, w.pos
    n = len(buf)
    cut = n
    for _ in range(BATCH_CUTS_TRIED):
        cut = buf.rfind("}", pos, cut)
        if cut < 0:
            return None
        j = cut + 1
        while j < n and buf[j] in _WS:
            j += 1
        if j < n and buf[j] == ",":
            break
    else:
        return None
    try:
        items = decode("[" + buf[pos:cut + 1] + "]")
    except (ValueError, RecursionError):  # ValueError: JSONDecodeError, NaN, int limit
        return None
    w.pos = j
    return items


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def iter_json_array(path: str, source: str | None = None, *,
                    deadline: float | None = None) -> Iterator[Any]:
    """The elements of the JSON array in file `path`, decoded one at a time. NaN and
    Infinity (not JSON), nesting too deep to decode and integers past Python's
    int-string limit are BadInput; `deadline` (time.monotonic()) raises ReadTimedOut
    once passed (checked every 4,096 elements)."""
    source = source or str(path)
    decoder = json.JSONDecoder(parse_constant=_no_constant)
    decode = decoder.raw_decode
    count = 0
    tried = -1  # the window (characters read) where a batch was last tried
    try:
        fh = open(path, encoding="utf-8")
    except OSError as e:
        raise BadInput(f"{source}: cannot read ({e.strerror})") from None
    with fh:
        w = _Window(fh, source)
        if w.skip_ws() != "[":
            raise w.bad("Expecting '['")
        w.pos += 1
        first = True
        while True:
            c = w.skip_ws()
            if c == "]":
                w.pos += 1
                break
            if not first:
                if c != ",":
                    raise w.bad("Expecting ',' delimiter" if c else "Unterminated array")
                w.pos += 1
                c = w.skip_ws()
            if c == "":
                raise w.bad("Unterminated array")
            if w.read != tried:  # once per window: most of it in one C-level decode
                tried = w.read
                batch = _batch(w, decoder.decode)
                if batch:
                    count += len(batch)
                    if deadline is not None and time.monotonic() > deadline:
                        raise ReadTimedOut(f"{source}: reading passed the deadline at "
                                           f"element {count}")
                    first = False
                    yield from batch
                    continue
            count += 1
            if deadline is not None and not count & 4095 and time.monotonic() > deadline:
                raise ReadTimedOut(f"{source}: reading passed the deadline at element "
                                   f"{count}")
            while True:
                try:
                    value, end = decode(w.buf, w.pos)
                except json.JSONDecodeError as e:
                    if w.more():
                        continue  # the element runs past the window
                    raise w.bad(e.msg, e.pos) from None
                except RecursionError:
                    raise w.bad("nested too deeply") from None
                except ValueError as e:  # NaN / Infinity, the int-string limit
                    raise w.bad(str(e).split(";")[0]) from None
                if end == len(w.buf) and w.more():
                    continue  # a number cut at the window's edge: decode it whole
                break
            w.pos = end
            first = False
            yield value
        if w.skip_ws() != "":
            raise w.bad("Extra data")
