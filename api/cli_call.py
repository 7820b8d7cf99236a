"""`hmtocr call IMAGE --url --key --secret`: one request to a server speaking the vendor protocol."""

from __future__ import annotations

import argparse
import json
import os
import sys


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "call",
        help="send one image to /faceid/v5/ocr_residence_permit_card and print the JSON answer",
    )
    parser.add_argument("image", help="image file (JPEG, PNG, ...)")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="server base URL or full endpoint URL")
    parser.add_argument("--key", default=os.environ.get("HMTOCR_API_KEY"), help="api_key (or HMTOCR_API_KEY)")
    parser.add_argument(
        "--secret", default=os.environ.get("HMTOCR_API_SECRET"), help="api_secret (or HMTOCR_API_SECRET)"
    )
    parser.add_argument("--return-portrait", action="store_true")
    parser.add_argument("--exception-range", default=None, help='JSON object, e.g. {"completeness": true}')
    parser.add_argument("--encryption-type", type=int, choices=(0, 1, 2), default=0, help="0 none, 1 SM2, 2 RSA")
    parser.add_argument("--client-private-key", help="PEM: decrypts the answer (encryption 1/2)")
    parser.add_argument("--server-public-key", help="PEM: encrypts the image (encryption 1/2)")
    parser.add_argument("--single-use", action="store_true", help="send a single-use sign (b=0)")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from api.client import OcrClient, client_cipher

    if not args.key or not args.secret:
        print("hmtocr call: --key and --secret (or HMTOCR_API_KEY / HMTOCR_API_SECRET) are required", file=sys.stderr)
        return 2
    cipher = None
    if args.encryption_type:
        if not args.client_private_key or not args.server_public_key:
            print("hmtocr call: encryption needs --client-private-key and --server-public-key", file=sys.stderr)
            return 2
        cipher = client_cipher(
            args.encryption_type, Path(args.client_private_key).read_bytes(), Path(args.server_public_key).read_bytes()
        )
    exception_range = json.loads(args.exception_range) if args.exception_range else None
    with OcrClient(args.url, args.key, args.secret, cipher=cipher, timeout_s=args.timeout) as client:
        reply = client.recognize(
            Path(args.image).read_bytes(),
            return_portrait=args.return_portrait,
            exception_range=exception_range,
            encryption_type=args.encryption_type,
            single_use=args.single_use,
        )
    if isinstance(reply.body, dict):
        print(json.dumps(reply.body, ensure_ascii=False, indent=2))
    else:
        print(reply.body)
    return 0 if reply.status == 200 else 1
