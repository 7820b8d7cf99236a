"""Pinned requirements from a `pip install --dry-run --report` file, less the named distributions.

Dockerfile.gpu resolves the package's run-time dependencies against requirements.lock this way and drops
`onnxruntime`: the image installs `onnxruntime-gpu` instead, and the two must never share an environment
(the CUDA provider disappears). Standard library only.

Usage: runtime_requirements.py REPORT.json --exclude NAME [NAME ...] > requirements.txt
"""

from __future__ import annotations

import argparse
import json
import re
import sys


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report")
    parser.add_argument("--exclude", nargs="*", default=[])
    args = parser.parse_args(argv)
    with open(args.report, encoding="utf-8") as fh:
        report = json.load(fh)
    excluded = {_normal(name) for name in args.exclude}
    pins = sorted(
        f"{item['metadata']['name']}=={item['metadata']['version']}"
        for item in report["install"]
        if _normal(item["metadata"]["name"]) not in excluded
    )
    sys.stdout.write("".join(pin + "\n" for pin in pins))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
