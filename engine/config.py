"""Plain engine configuration; the API's pydantic settings, the CLI and the benchmarks build it directly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Device = Literal["cpu", "cuda", "auto"]
Precision = Literal["int8", "fp32"]


@dataclass(frozen=True, slots=True)
class EngineConfig:
    device: Device = "cpu"
    device_id: int = 0
    # 0 lets onnxruntime choose (one thread per core); the service sets 1 per worker thread.
    intra_op_threads: int = 0
    inter_op_threads: int = 1
    # The line models (recogniser, angle classifier) on CPU: batches run side by side, one thread each, on
    # this many lanes (0: one per core), whatever `intra_op_threads` says.
    line_lanes: int = 0
    # Largest side of the working copy used to find the card, and the canonical card width.
    find_max_side_px: int = 800
    card_width_px: int = 960
    # The text detector's weights on CPU: int8 (built at `make setup`) or the float originals.
    det_precision: Precision = "int8"
