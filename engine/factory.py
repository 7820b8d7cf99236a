"""The one place that knows how to build each engine by name."""

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
        from engine.baseline import BaselineEngine

        return BaselineEngine(config)
    raise ValueError(f"unknown engine {name!r}; choose from {', '.join(ENGINE_NAMES)}")
