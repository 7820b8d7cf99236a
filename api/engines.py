"""The engines a user can name (`HMTOCR_ENGINE`, `hmtocr batch --engine`, `hmtocr bench --engine`).

`hmt` is the product (`engine.pipeline.build_pipeline`); `baseline` is the benchmarks' reference
(`benchmarks.baseline`), kept servable so that it can be measured through the same HTTP path. The names
live here, at the edge, so that the engine package never learns that a baseline exists.
"""

from __future__ import annotations

from engine.config import EngineConfig
from engine.protocol import CardEngine

ENGINE_NAMES: tuple[str, ...] = ("hmt", "baseline")


def build_engine(name: str = "hmt", config: EngineConfig | None = None) -> CardEngine:
    config = config or EngineConfig()
    if name == "hmt":
        from engine.pipeline import build_pipeline

        return build_pipeline(config)
    if name == "baseline":
        from benchmarks.baseline import BaselineEngine

        return BaselineEngine(config)
    raise ValueError(f"unknown engine {name!r}; choose from {', '.join(ENGINE_NAMES)}")
