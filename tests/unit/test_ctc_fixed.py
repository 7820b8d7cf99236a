"""Reading a fixed-length grammar from CTC probabilities (pure numpy, synthetic probabilities)."""

from __future__ import annotations

import numpy as np

from engine.ocr.rec import Alphabet, ctc_decode, ctc_decode_fixed

ALPHABET = Alphabet(list("0123456789HM"))
DIGIT = ALPHABET.mask_for("0123456789")
LETTER = ALPHABET.mask_for("HM")


def _frames(chars: list[str], boost: dict[int, tuple[str, float]] | None = None) -> np.ndarray:
    """Two steps per character and a blank between, each step 90 % sure; `boost` adds a runner-up."""
    rows = []
    for ch in chars:
        for _ in range(2):
            rows.append(_step(ch))
        rows.append(_step(""))
    probs = np.array(rows)
    for t, (ch, p) in (boost or {}).items():
        probs[t, ALPHABET.characters.index(ch)] += p
    return probs / probs.sum(axis=1, keepdims=True)


def _step(ch: str) -> np.ndarray:
    p = np.full(len(ALPHABET), 0.01)
    p[ALPHABET.characters.index(ch)] = 0.9
    return p


def _text(found: tuple[tuple[int, ...], float] | None) -> str:
    assert found is not None
    return "".join(ALPHABET.characters[i] for i in found[0])


def test_an_h_read_as_two_ones_is_read_as_the_letter_when_the_form_needs_one() -> None:
    probs = _frames(list("1155656025"), boost={t: ("H", 0.3) for t in range(5)})
    assert ctc_decode(probs, ALPHABET, len(probs))[0] == "1155656025"  # the greedy reading
    assert _text(ctc_decode_fixed(probs, 0, len(probs), [LETTER, *[DIGIT] * 8])) == "H55656025"


def test_equal_neighbours_stay_two_characters() -> None:
    probs = _frames(list("H12345578"))
    assert _text(ctc_decode_fixed(probs, 0, len(probs), [LETTER, *[DIGIT] * 8])) == "H12345578"


def test_the_reading_agrees_with_the_greedy_one_when_that_fits_the_form() -> None:
    probs = _frames(list("M31506149"))
    assert _text(ctc_decode_fixed(probs, 0, len(probs), [LETTER, *[DIGIT] * 8])) == "M31506149"


def test_a_form_longer_than_the_steps_cannot_be_read() -> None:
    probs = _frames(list("123"))[:5]
    assert ctc_decode_fixed(probs, 0, len(probs), [DIGIT] * 8) is None


def test_the_better_form_scores_higher() -> None:
    probs = _frames(list("M31506149"))
    with_letter = ctc_decode_fixed(probs, 0, len(probs), [LETTER, *[DIGIT] * 8])
    digits_only = ctc_decode_fixed(probs, 0, len(probs), [DIGIT] * 8)
    assert with_letter is not None and digits_only is not None
    assert with_letter[1] > digits_only[1]
