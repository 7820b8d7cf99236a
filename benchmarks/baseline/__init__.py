"""The baseline engine: what a competent team builds first with open-source OCR.

Full-image PP-OCR (RapidOCR: text detection, angle classification, recognition) on the decoded
photo, then fields by keyword and regular-expression rules over the text lines read top to bottom.
There is no card geometry: `card_quad_xy` is `ZERO_QUAD`, completeness is always 0, and there is no
portrait. It exists so the benchmarks can say how much the product engine adds over this approach;
the product engine never imports it (an import-linter contract). It may use the engine's pure rules.

In: the photo's bytes. Out: a `CardResult`, like any `engine.protocol.CardEngine`.
`text_lines` (normalised lines, rows) -> `labels` (side, turn) -> `field_rules` (fields, result code)
-> `pp_ocr.BaselineEngine` (the OCR and the composition).
"""

from benchmarks.baseline.pp_ocr import BaselineEngine

__all__ = ["BaselineEngine"]
