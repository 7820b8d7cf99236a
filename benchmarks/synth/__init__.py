"""Synthetic photos of the 港澳台居民居住证 with ground truth (see docs/ARCHITECTURE.md for the schema).

    from benchmarks.synth import generate_sample
    sample = generate_sample(seed=7, tier="photo", side=0)   # .image_bytes (JPEG), .truth (dict)
"""

from benchmarks.synth.generate import SPECIALS, TIER_NAMES, Sample, generate_sample

__all__ = ["SPECIALS", "TIER_NAMES", "Sample", "generate_sample"]
