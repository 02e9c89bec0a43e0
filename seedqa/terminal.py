"""Text from documents and file names made safe to print on a terminal.

A PDF title or a file name is chosen by whoever wrote the file. Printed raw,
escape sequences in it retitle the window, clear the screen or recolour what
follows, and a newline in a file name fakes a line of seedqa's own output.
`safe` removes escape sequences (CSI, OSC, DCS and the rest) and every other
control character (C0, DEL, C1, and the bidirectional overrides that reorder
what is shown); `one_line` also shows newlines and tabs as `\\n` and `\\t`.
"""

from __future__ import annotations

import re

# ESC [ ... final byte; ESC ] / P / X / ^ / _ ... up to BEL or ESC \ (or the end); any other
# ESC + one character; the 8-bit forms CSI (\x9b) and OSC/DCS (\x9d, \x90 ...) likewise.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe(text: object, *, one_line: bool = False) -> str:
    """`text` without terminal escape sequences or control characters (newline and tab stay,
    unless `one_line`, which writes them as the two characters `\\n` and `\\t`)."""
    text = str(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SEQUENCE.sub("", text)
    if one_line:
        text = text.replace("\n", "\\n").replace("\t", "\\t")
    return _CONTROL.sub("", text)
