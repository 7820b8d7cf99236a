"""Greedy CTC decoding restricted to a grammar's classes, against the plain definition: every step's
best allowed class, then repeats and blanks collapsed."""

from __future__ import annotations

import numpy as np
import pytest

from engine.ocr.rec import _FEW_CLASSES, Alphabet, ctc_decode

# more classes than the few-class path takes, as in the recogniser's 18 k dictionary
ALPHABET = Alphabet([chr(0x4E00 + i) for i in range(3 * _FEW_CLASSES)])


def _reference(probs: np.ndarray, mask: np.ndarray) -> str:
    best = np.where(mask[None, :], probs, -np.inf).argmax(axis=1)
    chars, previous = [], 0
    for c in best:
        if c != 0 and c != previous:
            chars.append(ALPHABET.characters[c])
        previous = c
    return "".join(chars)


@pytest.mark.parametrize("seed", range(6))
def test_a_large_mask_reads_each_step_as_its_best_allowed_class(seed: int) -> None:
    rng = np.random.default_rng(seed)
    probs = rng.random((60, len(ALPHABET)), dtype=np.float32) ** 8  # a few strong classes a step
    probs[::3, 0] = 1.0  # blanks between characters
    mask = rng.random(len(ALPHABET)) < 0.5
    mask[0] = True
    free = probs.argmax(axis=1)
    assert (~mask[free]).any() and mask[free[free != 0]].any()  # both kinds of step occur
    text, confs, _, steps = ctc_decode(probs, ALPHABET, len(probs), mask)
    assert text == _reference(probs, mask)
    assert all(mask[ALPHABET.index_of(ch)] for ch in text)
    assert confs == tuple(float(probs[s, ALPHABET.index_of(ch)]) for s, ch in zip(steps, text, strict=True))


def test_ties_keep_the_first_allowed_class() -> None:
    probs = np.zeros((1, len(ALPHABET)), dtype=np.float32)
    probs[0, [5, 9, 700]] = 0.3
    mask = np.zeros(len(ALPHABET), dtype=bool)
    mask[[0, 9, 700]] = True
    assert ctc_decode(probs, ALPHABET, 1, mask)[0] == ALPHABET.characters[9]


def _run(classes: list[int]) -> np.ndarray:
    """One step per entry, 90 % sure of its class."""
    probs = np.full((len(classes), len(ALPHABET)), 0.1 / len(ALPHABET), dtype=np.float32)
    probs[np.arange(len(classes)), classes] = 0.9
    return probs


def test_a_character_begun_before_the_first_step_is_not_read_again() -> None:
    """住址 then the address in one crop: 址 held one step past where the label's reading ends."""
    a, b, c = 7, 8, 9
    probs = _run([0, a, 0, b, b, 0, c, 0])
    label_end = 4  # the step after 址 (b) was first emitted
    assert (
        ctc_decode(probs, ALPHABET, len(probs))[0]
        == ALPHABET.characters[a] + ALPHABET.characters[b] + ALPHABET.characters[c]
    )
    text, _, _, steps = ctc_decode(probs, ALPHABET, len(probs), first_step=label_end)
    assert text == ALPHABET.characters[c] and steps == (6,)
    assert ctc_decode(probs, ALPHABET, len(probs), first_step=5)[0] == ALPHABET.characters[c]


def test_a_label_character_the_grammar_forbids_does_not_leave_its_runner_up_behind() -> None:
    """码 (forbidden in a digits grammar) held a step past the label: its runner-up digit is no value."""
    label, digit, value = 700, 5, 6
    probs = _run([label, label, 0, value, 0])
    probs[[0, 1], digit] = 0.05  # the best digit under 码
    digits = np.zeros(len(ALPHABET), dtype=bool)
    digits[[0, digit, value]] = True
    assert ctc_decode(probs, ALPHABET, len(probs), digits, first_step=1)[0] == ALPHABET.characters[value]
