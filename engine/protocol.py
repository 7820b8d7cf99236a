"""What every engine offers: the product engine, the baseline, and anything a benchmark compares."""

from __future__ import annotations

from typing import Protocol

from engine.types import CardResult, RecognizeOptions


class CardEngine(Protocol):
    """Thread-safe: one instance serves many threads; per-request choices travel in `options`."""

    @property
    def name(self) -> str: ...

    def recognize(self, image_bytes: bytes, options: RecognizeOptions) -> CardResult:
        """Reads one photo. Raises `engine.errors.EngineError` subclasses, never returns an empty result."""
        ...
