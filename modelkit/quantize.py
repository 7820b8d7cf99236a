"""Install step: builds the int8 text detector from the float one in the rapidocr wheel.

No weights are fetched: the float model's own weights are quantized (per output channel), and the
activation ranges are measured on the very inputs the engine gives this detector (the best outline's
flat card, plain and contrast-evened) while it reads generated photos. The engine keeps an int8 reading
only when it is plainly right (engine/pipeline.py, `_plainly_right`); whole photos and every later
outline stay with the float detector. On a 2-core CPU the int8 detector runs ~2.5x faster and finds the
same lines (tests/engine/test_int8_detector.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.registry import (
    DerivedEntry,
    derived_stamp,
    resolve_derived_path,
    resolve_model_path,
    sha256_of,
)

logger = logging.getLogger(__name__)

# Generated photos read to gather the detector's inputs; seeds far from any benchmark set's.
CALIBRATION_SEEDS = range(910_000, 910_048)
# Per-channel weights need DequantizeLinear's `axis` (opset 13).
_OPSET = 13


class _RecordingSession:
    """An onnxruntime session that keeps a copy of every input it runs on."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self.inputs: list[np.ndarray] = []

    def get_inputs(self) -> Any:
        return self._session.get_inputs()

    def run(self, output_names: Any, feeds: dict[str, np.ndarray], *args: Any) -> Any:
        self.inputs.extend(np.array(v, copy=True) for v in feeds.values())
        return self._session.run(output_names, feeds, *args)


def calibration_inputs(seeds: Sequence[int] = CALIBRATION_SEEDS) -> list[np.ndarray]:
    """The flat cards the engine gives its fast card detector (plain and contrast-evened) while it reads
    generated photos of every tier; whole photos and later outlines go to the float detector."""
    from benchmarks.synth import generate_sample
    from engine.config import EngineConfig
    from engine.errors import EngineError
    from engine.ocr.det import TextDetector
    from engine.onnx_session import shared_session
    from engine.pipeline import build_kit, pipeline_with_kit
    from engine.types import RecognizeOptions

    config = EngineConfig(det_precision="fp32", intra_op_threads=os.cpu_count() or 1)
    recorder = _RecordingSession(shared_session("text_det", config))
    kit = build_kit(config)
    kit = dataclasses.replace(kit, fast_detector=TextDetector(recorder))
    pipeline = pipeline_with_kit(kit, config)
    tiers = ("clean", "photo", "hard")
    for i, seed in enumerate(seeds):
        sample = generate_sample(seed, tiers[i % len(tiers)])
        # a photo it could not read still gave the detector inputs
        with contextlib.suppress(EngineError):
            pipeline.recognize(sample.image_bytes, RecognizeOptions())
    return recorder.inputs


def quantize_detector(source: Path, target: Path, inputs: Sequence[np.ndarray]) -> None:
    """`source` quantized to int8 (QDQ, per-channel weights, MinMax activations) into `target`."""
    import onnx
    import onnxruntime as ort
    from onnx import version_converter
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self, name: str) -> None:
            self._feeds: Iterator[dict[str, np.ndarray]] = iter([{name: x} for x in inputs])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._feeds, None)

    name = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"]).get_inputs()[0].name
    with tempfile.TemporaryDirectory() as tmp:
        upgraded, prepared = Path(tmp) / "opset.onnx", Path(tmp) / "prepared.onnx"
        onnx.save(version_converter.convert_version(onnx.load(str(source)), _OPSET), str(upgraded))
        quant_pre_process(str(upgraded), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(target),
            Reader(name),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
        )


def build(entry: DerivedEntry) -> Path:
    """Builds a derived model unless it is there, made from the same source by the same recipe."""
    path = resolve_derived_path(entry.name)
    if path is not None:
        return path
    entry.path.parent.mkdir(parents=True, exist_ok=True)
    # a user's own face photos would change the calibration photos, and so the file built
    faces_dir = os.environ.pop("HMTOCR_FACES_DIR", None)
    try:
        inputs = calibration_inputs()
    finally:
        if faces_dir is not None:
            os.environ["HMTOCR_FACES_DIR"] = faces_dir
    logger.info("quantizing %s over %d detector inputs", entry.source, len(inputs))
    partial = entry.path.with_suffix(".partial")
    quantize_detector(resolve_model_path(entry.source), partial, inputs)
    partial.replace(entry.path)
    entry.stamp_path.write_text(json.dumps(derived_stamp(entry, sha256_of(entry.path)), indent=2) + "\n")
    logger.info("built %s: %s", entry.name, entry.path)
    return entry.path


