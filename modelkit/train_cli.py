"""`hmtocr train outline | quality`: rebuild our own small models from a seed (needs the `train` extra for
the outline network: torch, CPU build). The handlers import the trainers, so `hmtocr --help` stays light."""

from __future__ import annotations

import argparse
from typing import Any


def _outline(args: argparse.Namespace) -> int:
    from modelkit.outline.train import main

    return main(args.rest)


def _quality(args: argparse.Namespace) -> int:
    from modelkit.quality.train import main

    return main(args.rest)


def register(subparsers: Any) -> None:
    train = subparsers.add_parser("train", help="train our own small models (outline network, field quality)")
    sub = train.add_subparsers(dest="train_command", required=True, metavar="MODEL")
    for name, handler, text in (
        ("outline", _outline, "the card-outline network (options: --seed --steps --batch --threads --pool --out)"),
        ("quality", _quality, "the field-quality model (options: --seed --n --out)"),
    ):
        p = sub.add_parser(name, help=text, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(handler=handler)
