"""The text models every text-reading stage shares, built once per engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.ocr.cls import TextAngleClassifier
from engine.ocr.det import TextDetector
from engine.ocr.rec import TextRecognizer


@dataclass(frozen=True, slots=True)
class OcrKit:
    detector: TextDetector
    # int8 on CPU: reads a clean flat card in half the time; None where it is not used (GPU, fp32 asked for)
    fast_detector: TextDetector | None
    recognizer: TextRecognizer
    classifier: TextAngleClassifier
    normalize: Callable[[str], str]  # the recogniser's variant characters to the card's printed forms
