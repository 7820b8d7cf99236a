"""The classical locator's working copy of the photo, its thresholds, and the shapes passed between its parts.

In: the decoded photo (BGR). Out: a `WorkCopy` (longest side `max_side_px`, blurred YCrCb, Sobel gradients
per channel, the level above which lightness detail counts as print) that every cue reads; `Refined` and
`Scored` are what refining and scoring hand on.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.image.geometry import FloatArray

CARD_ASPECT = 85.6 / 54.0  # ISO/IEC 7810 ID-1

F32 = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class CueThresholds:
    """The classical locator's image thresholds, in one place so that a benchmark can sweep them.

    Sobel responses are summed 3x3 responses on 8-bit channels of the working copy.
    """

    min_edge: float = 40.0  # weakest summed Sobel response taken as an edge point
    unseen_support: float = 0.6  # support credited to a side that lies out of frame
    aspect_sigma: float = 0.3  # log-aspect tolerance: a tilted card looks anywhere from 1.25 to 1.95
    text_edge: float = 60.0  # Sobel lightness response counted as printed detail inside the card
    chroma_weight: float = 2.0  # chroma differences count more than lightness ones (shadows change lightness)
    # A photo this close to the card's shape may be the card alone: cut out by a client app or scanned. A 3:2
    # photo (5.5 % off) is not taken for one.
    frame_aspect_tolerance: float = 0.05  # |log(aspect / CARD_ASPECT)|


CUES = CueThresholds()


@dataclass(frozen=True, slots=True)
class WorkCopy:
    """The working copy: scale from original, colour gradients, size."""

    scale: float  # working px = original px * scale
    size_wh: tuple[int, int]
    gray: NDArray[np.uint8]
    ycc: NDArray[np.uint8]  # YCrCb of the blurred working copy
    gx: F32  # (h, w, 3) Sobel x of Y, Cr, Cb
    gy: F32
    detail_thr: float  # Sobel lightness response counted as print, above the noise level
    # the lightness channel of gx, gy on its own: OpenCV copies a strided channel view on every call
    light_gx: F32
    light_gy: F32


# (score, method, quad in working px, weakest side's edge support)
Scored = tuple[float, str, "FloatArray", float]


@dataclass(frozen=True, slots=True)
class Refined:
    quad: FloatArray  # working px
    support: FloatArray  # per side, fraction of samples with an edge on the fitted line
    contrast: float  # median edge strength on the sides
    sides_seen: int = 4  # sides mostly inside the frame (the others cannot be checked)


def as_u8(a: object) -> NDArray[np.uint8]:
    return np.asarray(a, dtype=np.uint8)


def as_f32(a: object) -> F32:
    return np.asarray(a, dtype=np.float32)


def prepare_work(img_bgr: NDArray[np.uint8], max_side_px: int) -> WorkCopy:
    if img_bgr.ndim == 2:
        img_bgr = as_u8(cv2.cvtColor(img_bgr, cv2.COLOR_GRAY2BGR))
    h, w = img_bgr.shape[:2]
    scale = min(1.0, max_side_px / float(max(h, w)))
    src = img_bgr
    while max(src.shape[:2]) >= 2 * max_side_px:
        hh, ww = src.shape[:2]  # exact halving with INTER_AREA is fast and anti-aliased
        src = as_u8(cv2.resize(src, (ww // 2, hh // 2), interpolation=cv2.INTER_AREA))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = as_u8(cv2.resize(src, size, interpolation=cv2.INTER_LINEAR)) if scale < 1.0 else src
    small = as_u8(cv2.GaussianBlur(small, (3, 3), 0))
    ycc = as_u8(cv2.cvtColor(small, cv2.COLOR_BGR2YCrCb))
    gx = as_f32(cv2.Sobel(ycc, cv2.CV_32F, 1, 0, ksize=3))  # chroma weighting happens when sampling
    gy = as_f32(cv2.Sobel(ycc, cv2.CV_32F, 0, 1, ksize=3))
    sh, sw = small.shape[:2]
    mag = np.abs(gx[::4, ::4, 0]) + np.abs(gy[::4, ::4, 0])
    detail_thr = max(CUES.text_edge, 4.0 * float(np.median(mag)))
    light_gx, light_gy = as_f32(gx[:, :, 0].copy()), as_f32(gy[:, :, 0].copy())
    return WorkCopy(scale, (sw, sh), as_u8(ycc[:, :, 0].copy()), ycc, gx, gy, detail_thr, light_gx, light_gy)
