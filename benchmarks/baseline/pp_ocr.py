"""The baseline engine itself: RapidOCR (PP-OCR) on the whole decoded photo, then the field rules.

Thread-safety: RapidOCR writes per-call flags (`use_det`, `use_cls`, `use_rec`) onto the shared
instance on every call, so one lock serialises calls to it; decoding and parsing run outside it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import cv2
import numpy as np

from benchmarks.baseline.field_rules import parse_back, parse_front, result_code
from benchmarks.baseline.labels import detect_side, label_order_inverted, looks_like_permit, mostly_vertical
from benchmarks.baseline.text_lines import Row, TextLine, group_rows, normalize_text, rotate_clockwise, unrotate_quad
from engine.config import EngineConfig
from engine.errors import ImageSizeError, UnsupportedImageError
from engine.types import (
    BACK_FIELDS,
    FRONT_FIELDS,
    VENDOR_BACK_FIELDS,
    ZERO_QUAD,
    CardResult,
    FieldResult,
    RecognizeOptions,
    Side,
    StageTiming,
)

logger = logging.getLogger(__name__)


MIN_SIDE_PX = 200


MAX_SIDE_PX = 8000


# RapidOCR's own default for the detector's input: the short side brought to at least 736 px.
DET_LIMIT_TYPE = "min"


DET_LIMIT_SIDE_PX = 736


_T = TypeVar("_T")


def decode_image(image_bytes: bytes) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """BGR pixels; `UnsupportedImageError` for undecodable bytes, `ImageSizeError` outside 200–8000 px."""
    if not image_bytes:
        raise UnsupportedImageError("empty image")
    buf = np.frombuffer(image_bytes, dtype=np.uint8)
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if decoded is None or decoded.size == 0:
        raise UnsupportedImageError("image could not be decoded")
    img = np.asarray(decoded, dtype=np.uint8)
    h, w = img.shape[:2]
    if not (MIN_SIDE_PX <= w <= MAX_SIDE_PX and MIN_SIDE_PX <= h <= MAX_SIDE_PX):
        raise ImageSizeError(f"image is {w}x{h} px; each side must be {MIN_SIDE_PX}-{MAX_SIDE_PX} px")
    return img


def _rapidocr_params(config: EngineConfig) -> dict[str, Any]:
    from models.registry import resolve_model_path

    threads = config.intra_op_threads if config.intra_op_threads > 0 else -1
    return {
        "Global.log_level": "warning",
        # Verified files from the installed wheel: RapidOCR never reaches for the network.
        "Det.model_path": str(resolve_model_path("text_det")),
        "Rec.model_path": str(resolve_model_path("text_rec")),
        "Cls.model_path": str(resolve_model_path("text_cls")),
        "Det.limit_type": DET_LIMIT_TYPE,
        "Det.limit_side_len": DET_LIMIT_SIDE_PX,
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": max(1, config.inter_op_threads),
        "EngineConfig.onnxruntime.use_cuda": config.device in ("cuda", "auto"),
        "EngineConfig.onnxruntime.cuda_ep_cfg.device_id": config.device_id,
        "EngineConfig.onnxruntime.cuda_ep_cfg.cudnn_conv_algo_search": "HEURISTIC",
    }


class BaselineEngine:
    """Full-image PP-OCR plus keyword/regex field rules; satisfies `engine.protocol.CardEngine`."""

    def __init__(self, config: EngineConfig) -> None:
        from rapidocr import RapidOCR

        self._config = config
        self._ocr = RapidOCR(params=_rapidocr_params(config))
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return "baseline"

    @property
    def providers(self) -> tuple[str, ...]:
        """The onnxruntime providers really active for text detection (empty before the first call)."""
        det = getattr(self._ocr, "text_det", None)
        session = getattr(getattr(det, "session", None), "session", None)
        return tuple(session.get_providers()) if session is not None else ()

    def read_lines(self, img_bgr: np.ndarray[Any, np.dtype[np.uint8]]) -> tuple[TextLine, ...]:
        with self._lock:
            out = self._ocr(img_bgr, use_det=True, use_cls=True, use_rec=True)
        boxes = getattr(out, "boxes", None)
        txts = getattr(out, "txts", None)
        scores = getattr(out, "scores", None)
        if boxes is None or txts is None or scores is None:
            return ()
        lines = []
        for box, txt, score in zip(boxes, txts, scores, strict=True):
            pts = [(float(x), float(y)) for x, y in np.asarray(box, dtype=np.float64).reshape(4, 2)]
            text = normalize_text(str(txt))
            if text:
                lines.append(TextLine(text, float(score), (pts[0], pts[1], pts[2], pts[3])))
        return tuple(lines)

    def read_upright(self, img_bgr: np.ndarray[Any, np.dtype[np.uint8]]) -> tuple[tuple[Row, ...], int]:
        """Rows read in the card's reading direction, and the clockwise turn (0/90/180/270) that made
        the image upright. A second pass runs only when the first one says the card is turned: labels
        in reverse order (180°), or mostly vertical text boxes (90° / 270°)."""
        rows = group_rows(self.read_lines(img_bgr))
        turns: tuple[int, ...] = ()
        if mostly_vertical(rows):
            turns = (90, 270)
        elif label_order_inverted(rows):
            turns = (180,)
        for turn in turns:
            turned_rows = group_rows(self.read_lines(rotate_clockwise(img_bgr, turn)))
            if looks_like_permit(turned_rows) and not label_order_inverted(turned_rows):
                return turned_rows, turn
        return rows, 0

    def recognize(self, image_bytes: bytes, options: RecognizeOptions) -> CardResult:
        timings: list[StageTiming] = []

        def timed(stage: str, fn: Callable[[], _T]) -> _T:
            t0 = time.perf_counter()
            try:
                return fn()
            finally:
                timings.append(StageTiming(stage, (time.perf_counter() - t0) * 1000.0))

        img = timed("decode", lambda: decode_image(image_bytes))
        rows, turn = timed("ocr", lambda: self.read_upright(img))
        height, width = img.shape[:2]

        def parse() -> tuple[Side, tuple[FieldResult, ...]]:
            side = detect_side(rows)
            parsed = parse_front(rows) if side == Side.FRONT else parse_back(rows)
            names = FRONT_FIELDS if side == Side.FRONT else BACK_FIELDS
            required = FRONT_FIELDS if side == Side.FRONT else VENDOR_BACK_FIELDS
            fields = []
            for n in names:
                f = parsed[n]
                if not f.text and n in required:  # a field not read is a logic problem (vendor)
                    f = FieldResult(name=n, text="", quality=0.0, quad_xy=ZERO_QUAD, logic=1)
                elif turn and f.quad_xy != ZERO_QUAD:
                    quad = unrotate_quad(f.quad_xy, turn, width, height)
                    f = FieldResult(name=n, text=f.text, quality=f.quality, quad_xy=quad, logic=f.logic)
                fields.append(f)
            return side, tuple(fields)

        side, fields = timed("parse", parse)
        code = result_code(side, fields, options)
        logger.debug("baseline read side=%d code=%d in %.0f ms", side, code, sum(t.elapsed_ms for t in timings))
        return CardResult(
            side=side,
            fields=fields,
            card_quad_xy=ZERO_QUAD,
            completeness=0,
            result_code=code,
            portrait=None,
            timings=tuple(timings),
        )
