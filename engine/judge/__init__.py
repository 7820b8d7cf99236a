"""Judge: how far each reading can be trusted.

In: the fields read (text, per-character confidences, the field crop's image cues, the card's logic
checks). Out: per-field `quality` in [0, 1], calibrated so that a wrong reading falls below the vendor's
bar (0.15) and a right one stays above it.
The card's grammar (`rules`: check characters, dates, pass numbers; `birth_agreement`) and the
image cues, completeness and result code (`scoring`) are pure functions beside the learned model.
"""
