"""Read: the card's printed text, turned into field values.

In: the photo and an outline (from `locate`). Out: a `CardReading` (the card warped flat and upright, its
text lines and rows, the side, how many labels and value patterns were read) and, from it, one
`FieldReading` per field (text, per-character confidences, box), each found by what is printed: the
rows a label or a value's own grammar places, never a fixed box.
"""
