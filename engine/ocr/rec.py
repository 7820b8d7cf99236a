"""PP-OCR (CTC) text recognition with per-character probabilities kept for grammar-aware decoding."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

import cv2
import numpy as np
import onnxruntime as ort

from engine.ocr.lanes import Lanes

REC_HEIGHT_PX = 48
# Crops are padded to a multiple of the bucket width and batched per bucket. On CPU a batch costs
# the sum of its rows, so fine buckets (little padding) win; on CUDA few distinct shapes win.
CPU_WIDTH_BUCKET_PX = 32
GPU_WIDTH_BUCKET_PX = 160
_MAX_BATCH = 16
# Masks up to this many classes are decoded over their own columns; gathering more costs more than it saves.
_FEW_CLASSES = 256


@dataclass(frozen=True, slots=True, eq=False)
class RecLine:
    """One recognised crop. `probs` is the softmax over the alphabet per CTC time step."""

    text: str
    char_confidences: tuple[float, ...]
    char_x_fraction: tuple[float, ...]  # each character's centre as a share of the crop's width
    char_steps: tuple[int, ...]  # the CTC time step that emitted each character
    probs: np.ndarray = field(repr=False)
    steps_used: int  # time steps that cover the crop itself (the rest is padding)

    @property
    def confidence(self) -> float:
        return float(np.mean(self.char_confidences)) if self.char_confidences else 0.0

    @property
    def min_confidence(self) -> float:
        return min(self.char_confidences) if self.char_confidences else 0.0


class Alphabet:
    """The recogniser's classes: index 0 is the CTC blank, then the model's dictionary, then space."""

    def __init__(self, characters: Sequence[str]) -> None:
        self.characters: tuple[str, ...] = ("", *characters, " ")
        self._index = {c: i for i, c in enumerate(self.characters) if c}

    def __len__(self) -> int:
        return len(self.characters)

    def index_of(self, ch: str) -> int | None:
        return self._index.get(ch)

    def mask_for(self, allowed: str) -> np.ndarray:
        mask = np.zeros(len(self.characters), dtype=bool)
        mask[0] = True
        for ch in allowed:
            idx = self._index.get(ch)
            if idx is not None:
                mask[idx] = True
        return mask


def ctc_decode(
    probs: np.ndarray, alphabet: Alphabet, steps_used: int, mask: np.ndarray | None = None, first_step: int = 0
) -> tuple[str, tuple[float, ...], tuple[float, ...], tuple[int, ...]]:
    """Greedy CTC decoding, optionally restricted to the classes in `mask` (plus blank).

    Restricting before the arg-max (rather than filtering the decoded string afterwards) lets a field's
    grammar pick the best allowed character at each step, e.g. `0` where the free reading said `O`.
    Only steps `first_step .. steps_used` are decoded (a value that follows its label in one crop); a character
    whose run of steps began before `first_step` (the label's last, held a step longer) is not emitted again.
    """
    # the step before the first is decoded too, as the one the first is compared with, and then dropped
    before = 1 if first_step > 0 else 0
    scores = probs[first_step - before : steps_used]
    if mask is None:
        best = scores.argmax(axis=1)
    else:
        allowed = np.flatnonzero(mask)
        if 0 < allowed.size <= _FEW_CLASSES:
            # the arg-max over the allowed columns only (digits, a date): the first best among them, as over the
            # whole row with the others pushed below every probability, without touching 18 k columns a step
            best = allowed[scores[:, allowed].argmax(axis=1)]
        else:
            # where the free reading's class is allowed it is the best allowed one too: only the other steps are
            # searched again (masking every step cost ~4 ms a line, most of it for steps it left unchanged)
            best = scores.argmax(axis=1)
            off = np.flatnonzero(~mask[best])
            if off.size:
                best[off] = np.where(mask[None, :], scores[off], np.float32(-1.0)).argmax(axis=1)
    # a class is emitted where it differs from the step before (the step before step 0 is blank)
    emitted = np.flatnonzero((best != 0) & (best != np.concatenate(([0], best[:-1]))))
    emitted = emitted[emitted >= before] - before
    scores, best = scores[before:], best[before:]
    classes = best[emitted]
    chars = "".join(alphabet.characters[i] for i in classes)
    confs = tuple(float(v) for v in scores[emitted, classes])
    xs = tuple(float(v) for v in (first_step + emitted + 0.5) / max(steps_used, 1))
    return chars, confs, xs, tuple(int(first_step + v) for v in emitted)


def ctc_decode_fixed(
    probs: np.ndarray, first_step: int, end_step: int, position_masks: Sequence[np.ndarray]
) -> tuple[tuple[int, ...], float] | None:
    """The most probable CTC path over steps `first_step..end_step` that emits exactly one character
    per mask, each from its own mask: (class indices, log-probability), or None when none fits.

    A grammar of fixed length ("H or M, then eight digits") read this way cannot lose or gain a
    character the way a greedy reading can (H read as 11, a digit merged into its neighbour).
    """
    n = len(position_masks)
    logp = np.log(np.maximum(probs[first_step:end_step], 1e-12))
    if n == 0 or len(logp) < n:
        return None
    classes = [np.flatnonzero(m[1:]) + 1 for m in position_masks]  # the blank is never a character
    # states: blank after k characters (k = 0..n), then each (position, class)
    offsets = np.cumsum([n + 1] + [len(c) for c in classes])
    n_states = int(offsets[-1])
    emit = np.zeros(n_states, dtype=np.int64)
    preds: list[list[int]] = [[] for _ in range(n_states)]
    for k in range(n + 1):
        preds[k].append(k)
        if k > 0:
            preds[k].extend(range(int(offsets[k - 1]), int(offsets[k])))
    for k, cls in enumerate(classes):
        for j, c in enumerate(cls):
            s = int(offsets[k]) + j
            emit[s] = c
            preds[s] += [s, k]  # stay, or start after a blank
            if k > 0:  # straight after the previous character when it is a different class
                preds[s] += [int(offsets[k - 1]) + i for i, c2 in enumerate(classes[k - 1]) if c2 != c]
    width = max(len(p) for p in preds)
    pred = np.array([p + [p[0]] * (width - len(p)) for p in preds], dtype=np.int64)
    score = np.full(n_states, -np.inf)
    score[0] = logp[0, 0]
    score[offsets[0] : offsets[0] + len(classes[0])] = logp[0, classes[0]]
    back = np.zeros((len(logp), n_states), dtype=np.int64)
    for t in range(1, len(logp)):
        cand = score[pred]
        best = cand.argmax(axis=1)
        back[t] = pred[np.arange(n_states), best]
        score = cand[np.arange(n_states), best] + logp[t, emit]
    ends = [n, *range(int(offsets[n - 1]), int(offsets[n]))]
    state = max(ends, key=lambda e: score[e])
    if not np.isfinite(score[state]):
        return None
    total = float(score[state])
    path = [state]
    for t in range(len(logp) - 1, 0, -1):
        state = int(back[t, state])
        path.append(state)
    chars: list[int] = []
    previous = -1
    for st in reversed(path):
        if st > n and st != previous:
            chars.append(int(emit[st]))
        previous = st
    return (tuple(chars), total) if len(chars) == n else None


class LazyCrop(Protocol):
    """A line image cut only when it is read (on the lane that reads it); its size is known before."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    def cut(self) -> np.ndarray: ...


Crop = np.ndarray | LazyCrop


def pixels(crop: Crop) -> np.ndarray:
    """The crop's image, cut now if it was left to be cut."""
    return crop if isinstance(crop, np.ndarray) else crop.cut()


def _bucket_width_px(crop_bgr: Crop, bucket_px: int) -> int:
    h, w = crop_bgr.shape[:2]
    natural = math.ceil(REC_HEIGHT_PX * w / max(h, 1))
    return int(max(2 * bucket_px, math.ceil(natural / bucket_px) * bucket_px))


def _resize_crop(crop: Crop, width_px: int) -> tuple[np.ndarray, int]:
    crop_bgr = pixels(crop)
    h, w = crop_bgr.shape[:2]
    target_w = min(width_px, max(1, math.ceil(REC_HEIGHT_PX * w / max(h, 1))))
    resized = cv2.resize(crop_bgr, (target_w, REC_HEIGHT_PX), interpolation=cv2.INTER_LINEAR)
    canvas = np.zeros((3, REC_HEIGHT_PX, width_px), dtype=np.float32)
    canvas[:, :, :target_w] = unit_planar(resized)
    return canvas, target_w


def unit_planar(img_bgr: np.ndarray) -> np.ndarray:
    """(3, h, w) float32 in [-1, 1], the input of the line models (recogniser, angle classifier). In place:
    4x faster than the same arithmetic on a transposed view, and the same values."""
    planar = img_bgr.transpose(2, 0, 1).astype(np.float32)
    planar /= np.float32(127.5)
    planar -= np.float32(1.0)
    return planar


class TextRecognizer:
    def __init__(
        self, session: ort.InferenceSession, width_bucket_px: int = CPU_WIDTH_BUCKET_PX, lanes: Lanes | None = None
    ) -> None:
        self._session = session
        self._bucket_px = width_bucket_px
        self._lanes = lanes or Lanes(1)
        self._input_name = session.get_inputs()[0].name
        meta = session.get_modelmeta().custom_metadata_map
        self.alphabet = Alphabet(meta["character"].splitlines())

    def __call__(self, crops_bgr: Sequence[Crop]) -> list[RecLine]:
        """Recognises crops (any width, text horizontal); batches them by width; keeps input order."""
        results: list[RecLine | None] = [None] * len(crops_bgr)
        by_width: dict[int, list[int]] = {}
        for i, crop in enumerate(crops_bgr):
            by_width.setdefault(_bucket_width_px(crop, self._bucket_px), []).append(i)
        chunks = [
            (members[start : start + _MAX_BATCH], width_px)
            for width_px, members in sorted(by_width.items())
            for start in range(0, len(members), _MAX_BATCH)
        ]
        self._lanes.run(
            [partial(self._run_batch, crops_bgr, chunk, width_px, results) for chunk, width_px in chunks],
            costs=[len(chunk) * width_px for chunk, width_px in chunks],
        )
        return [r for r in results if r is not None]

    def _run_batch(
        self, crops_bgr: Sequence[Crop], chunk: list[int], width_px: int, results: list[RecLine | None]
    ) -> None:
        batch = np.zeros((len(chunk), 3, REC_HEIGHT_PX, width_px), dtype=np.float32)
        used_px = []
        for row, i in enumerate(chunk):
            batch[row], used = _resize_crop(crops_bgr[i], width_px)
            used_px.append(used)
        probs = self._session.run(None, {self._input_name: batch})[0]
        steps = probs.shape[1]
        for row, i in enumerate(chunk):
            steps_used = max(1, min(steps, math.ceil(steps * used_px[row] / width_px)))
            text, confs, xs, char_steps = ctc_decode(probs[row], self.alphabet, steps_used)
            results[i] = RecLine(text, confs, xs, char_steps, probs[row], steps_used)

    def redecode(self, line: RecLine, mask: np.ndarray, first_step: int = 0, end_step: int | None = None) -> RecLine:
        """Steps `first_step..end_step` of the same crop decoded with only the classes in `mask`."""
        end = line.steps_used if end_step is None else min(end_step, line.steps_used)
        text, confs, xs, steps = ctc_decode(line.probs, self.alphabet, end, mask, first_step)
        xs = tuple(min(1.0, (s + 0.5) / line.steps_used) for s in steps)
        return RecLine(text, confs, xs, steps, line.probs, line.steps_used)
