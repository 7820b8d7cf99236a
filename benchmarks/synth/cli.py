"""`hmtocr synth`: write synthetic permit photos with ground truth."""

from __future__ import annotations

import argparse
import os
from typing import Any

TIERS = ("clean", "photo", "hard", "mixed", "wild")
# the generator's special cases, listed here so the parser needs no heavy import
SPECIALS = (
    "cut1", "cut2", "occluded", "glare", "no_face", "logic", "negative_text", "negative_card", "negative_blank",
    "size_small", "size_large", "card_alone",
)


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "synth", help="generate synthetic permit photos with ground truth",
        description="Write <index>.jpg + <index>.json pairs, index.jsonl and manifest.json to --out.")
    p.add_argument("--n", type=int, required=True, help="number of samples")
    p.add_argument("--seed", type=int, default=0, help="set seed (default 0)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--tier", choices=TIERS, default="mixed",
                   help="difficulty (default mixed; wild: ranges wider than any tuned tier)")
    p.add_argument("--special", choices=SPECIALS, default=None,
                   help="every sample this special case (card_alone: the card cut out of its photo, as a client app "
                        "sends it)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: CPU cores)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from benchmarks.synth.writer import write_dataset

    if args.n < 0:
        raise SystemExit("--n must be >= 0")
    report = write_dataset(args.out, args.n, args.seed, args.tier, args.workers, args.special)
    print(f"{report.n} samples in {report.elapsed_s:.1f} s: {report.images_per_s:.1f} images/s "
          f"({report.workers} workers) -> {args.out}")
    return 0
