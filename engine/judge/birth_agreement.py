"""The printed birth date read against the one the ID number carries.

On a genuine card the two agree. The ID number is read with its check character, so when it checks, a birth
digit read unsurely as something else is the recogniser's slip: it is read as the number's digit where the
recogniser saw that digit too. A date printed differently from the number (a forgery, a misprint) is read
surely and stays as printed, for the logic check to flag.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from engine.read.places import SURE, Alternative

# The recogniser's own probability for the number's digit, at or next to where it read another one: more
# than a place name needs (0.001), since a date has no other characters of its own to vouch for it.
MIN_DIGIT_PROB = 0.01

_BIRTH_RE = re.compile(r"(\d{4})年?(\d{1,2})月?(\d{1,2})日?")
# The unit printed after each part: only a part it closes is known to hold a digit too many.
_UNITS = {1: "年", 2: "月", 3: "日"}


def birth_as_in_id(
    text: str, confidences: Sequence[float], id_birth: date, alternative: Alternative
) -> tuple[str, tuple[float, ...]]:
    """`text` (the birth row as read, `1994年1月2日`) and its `confidences`, with each digit that differs from
    `id_birth` changed to the number's where it was read unsurely and `alternative` saw the number's digit
    too (taking that probability as its confidence), and a month or day read with one digit more than the
    number's dropped where that digit was read unsurely and its unit (月, 日) closes it (a stroke of the unit
    read as a digit). A part read with fewer digits is left as read."""
    match = _BIRTH_RE.search(text)
    if match is None or len(confidences) != len(text):
        return text, tuple(confidences)
    expected = (f"{id_birth.year:04d}", str(id_birth.month), str(id_birth.day))
    chars: list[str | None] = list(text)
    confs = list(confidences)
    for group, want in enumerate(expected, start=1):
        got, at = match.group(group), match.start(group)
        if len(got) == len(want):
            for k, (read, printed) in enumerate(zip(got, want, strict=True)):
                if read != printed and confs[at + k] < SURE:
                    p = alternative(at + k, printed)
                    if p >= MIN_DIGIT_PROB:
                        chars[at + k], confs[at + k] = printed, p
        elif len(got) == len(want) + 1 and text[match.end(group) : match.end(group) + 1] == _UNITS[group]:
            extra = [k for k in range(len(got)) if got[:k] + got[k + 1 :] == want and confs[at + k] < SURE]
            if extra:
                chars[at + extra[0]] = None
    kept = [i for i, ch in enumerate(chars) if ch is not None]
    return "".join(chars[i] or "" for i in kept), tuple(confs[i] for i in kept)
