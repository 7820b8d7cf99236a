"""Synthetic photos of the 港澳台居民居住证 with ground truth (schema: docs/ARCHITECTURE.md).

Python API (deterministic: the same arguments give the same bytes and truth in any process)::

    from benchmarks.synth import generate_sample, generate_flat_card
    s = generate_sample(seed=7, tier="photo", side=0)          # tier: clean | photo | hard | mixed
    s = generate_sample(seed=7, tier="clean", special="cut2")  # special: see SPECIALS
    s.image_bytes, s.truth, s.ext                              # JPEG bytes, the truth dict, "jpg"
    f = generate_flat_card(seed=7, side=1)                     # the card alone, no photo effects

Command line: `hmtocr synth --n N --seed S --out DIR [--tier mixed] [--workers W]` writes
`<index:05d>.jpg` + `.json`, `index.jsonl` and `manifest.json`; sample i uses
`writer.sample_seed(S, i)`, so a set does not depend on the number of workers.

Truth keys beyond the architecture's schema: `region` (810000/820000/830000 of the holder),
`cut_fields` (fields whose box leaves the frame), `field_quads_xy` (each field's ink box in image
pixels, lt rt rb lb), `special`, `seed`, `set_tier` (`tier` is the drawn clean/photo/hard tier),
`font`, `background`, `rotation_deg`, `blur`, `jpeg_quality`, `card_px_per_mm`, `negative`.
Negatives and size cases have `side: null`, `fields: {}` and an all-zero `card_quad_xy`.
Modules: data (identities, number rules), card (flat card), photo (pose, light, blur, noise),
special (finger, negatives), generate (one sample), writer (a set), cli, assets (cached fonts,
faces, guilloche). Face photos are read from ../shared/faces (or $HMTOCR_FACES_DIR) and from
scikit-image / matplotlib sample data; nothing is copied into the repository.
"""

from benchmarks.synth.generate import SPECIALS, TIER_NAMES, Sample, generate_flat_card, generate_sample

__all__ = ["SPECIALS", "TIER_NAMES", "Sample", "generate_flat_card", "generate_sample"]
