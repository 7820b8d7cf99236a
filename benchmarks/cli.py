"""`hmtocr bench accuracy | speed | soak`: parsers only; the handlers import the heavy parts."""

from __future__ import annotations

import argparse
from typing import Any


def _accuracy(args: argparse.Namespace) -> int:
    from benchmarks.accuracy import handle

    return handle(args)


def _speed(args: argparse.Namespace) -> int:
    from benchmarks.speed import handle

    return handle(args)


def _soak(args: argparse.Namespace) -> int:
    from benchmarks.soak import handle

    return handle(args)


def register(subparsers: Any) -> None:
    bench = subparsers.add_parser("bench", help="accuracy and speed benchmarks (engines side by side)")
    sub = bench.add_subparsers(dest="bench_command", required=True, metavar="BENCH")

    acc = sub.add_parser("accuracy", help="score engines on a labelled folder (truth JSON beside images)")
    acc.add_argument("--data", required=True, help="folder of images with <stem>.json ground truth")
    acc.add_argument(
        "--engine", action="append", default=None,
        help="in-process engine by name (hmt, baseline); repeat for several (default: hmt and baseline)",
    )
    acc.add_argument(
        "--url", action="append", default=None,
        help="a server speaking the wire protocol (base URL or full endpoint); repeatable",
    )
    acc.add_argument("--key", help="api_key for --url")
    acc.add_argument("--secret", help="api_secret for --url")
    acc.add_argument("--limit", type=int, default=None, help="score only the first N images")
    acc.add_argument("--workers", type=int, default=1, help="requests in flight per engine (default 1)")
    acc.add_argument("--threads", type=int, default=0, help="onnxruntime intra-op threads (0: auto)")
    acc.add_argument("--json", help="write the full report (scores, per-image records, machine) here")
    acc.add_argument("--markdown", help="also write the markdown tables here")
    acc.set_defaults(handler=_accuracy)

    speed = sub.add_parser("speed", help="latency, throughput and memory, baseline in the same run")
    speed.add_argument(
        "--engine", action="append", default=None,
        help="engine to time; repeat for several (default: hmt and baseline)",
    )
    speed.add_argument("--sizes", type=int, nargs="+", default=[800, 1600, 3000], help="long side in px")
    speed.add_argument("--repeat", type=int, default=10, help="timed calls per engine and size")
    speed.add_argument("--warmup", type=int, default=2, help="untimed calls first")
    speed.add_argument("--threads", type=int, default=0, help="onnxruntime intra-op threads (0: auto)")
    speed.add_argument("--http", action="store_true", help="also time the real service at concurrency levels")
    speed.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4], help="for --http")
    speed.add_argument("--requests", type=int, default=12, help="requests per concurrency level (--http)")
    speed.add_argument("--image", help="time this photo (resized to each size) instead of a generated one")
    speed.add_argument("--json", help="write the report here")
    speed.set_defaults(handler=_speed)

    soak = sub.add_parser("soak", help="the real service under valid and bad requests for N minutes (loopback)")
    soak.add_argument("--minutes", type=float, required=True)
    soak.add_argument("--concurrency", type=int, default=4, help="clients sending back to back")
    soak.add_argument("--bad-share", type=float, default=0.1, help="share of bad requests")
    soak.add_argument("--engine", default="hmt")
    soak.add_argument("--interval-s", type=float, default=60.0, help="one report row per interval")
    soak.add_argument("--warmup-minutes", type=float, default=2.0, help="RSS is compared to its level after this")
    soak.add_argument("--max-rss-growth", type=float, default=0.10, help="fail above this growth after warm-up")
    soak.add_argument("--images", type=int, default=6, help="generated card photos to send")
    soak.add_argument("--json", help="write the full report here")
    soak.add_argument("--markdown", help="write the table here")
    soak.set_defaults(handler=_soak)
