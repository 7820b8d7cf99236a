"""`hmtocr`: one command line for the service, the batch reader, the generator and the benchmarks.

Each sub-command lives in its own module with a `register(subparsers)` function that adds its parser
and sets `handler`; heavy imports stay inside the handlers so `hmtocr --help` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

_COMMAND_MODULES: tuple[str, ...] = (
    "api.cli_serve",  # serve
    "api.cli_call",  # call
    "api.batch",  # recognize
    "benchmarks.synth.cli",  # synth
    "benchmarks.cli",  # bench accuracy | bench speed
    "modelkit.cli",  # models install | verify | dir
    "modelkit.train_cli",  # train outline | quality
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hmtocr", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in _COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    result = args.handler(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
