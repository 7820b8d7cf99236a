"""OCR: PP-OCR text detection and recognition on shared onnxruntime sessions, used by locate and read.

In: BGR images (a photo, a warped card, line crops). Out: `det.TextDetector` gives text-line quads
(`TextBox`); `rec.TextRecognizer` gives `RecLine`s (text and the per-character probabilities the field
grammars decode); `cls.TextAngleClassifier` says whether a card is upside down. `kit.OcrKit` holds the three,
built once per engine; `lanes.Lanes` runs line batches side by side, one thread each.
"""
