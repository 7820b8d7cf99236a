"""`hmtocr serve`: the HTTP service on uvicorn."""

from __future__ import annotations

import argparse
import os


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the vendor-compatible HTTP service",
        description="Serve POST /faceid/v5/ocr_residence_permit_card. Settings come from HMTOCR_* "
        "environment variables (see api/settings.py); the options below override them.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (each builds one engine)")
    parser.add_argument("--engine", default=None, help="engine name (default: HMTOCR_ENGINE or hmt)")
    parser.add_argument("--keys-file", default=None, help="API keys file (default: HMTOCR_KEYS_FILE)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import resolve_keys
    from api.keys import KeysConfigError
    from api.logs import configure_logging
    from api.protocol import VendorH11Protocol
    from api.settings import Settings
    from api.store import StateStore, StateUnavailable

    # The worker processes read HMTOCR_* themselves: pass the options on through the environment.
    if args.engine:
        os.environ["HMTOCR_ENGINE"] = args.engine
    if args.keys_file:
        os.environ["HMTOCR_KEYS_FILE"] = args.keys_file
    settings = Settings()
    configure_logging(settings.log_format, str(getattr(args, "log_level", "info")).upper(), force=True)
    try:
        keys, generated = resolve_keys(settings)
        StateStore(settings.state_db).close()  # a state folder we cannot write: one line, not a traceback
    except (KeysConfigError, StateUnavailable) as exc:
        print(f"hmtocr serve: {exc}")
        return 2
    if generated:
        key_ids = ", ".join(sorted(keys))
        print(
            f"No API keys configured (HMTOCR_API_KEYS / HMTOCR_KEYS_FILE): using {generated} "
            f"(mode 0600; key {key_ids}; read the secret from the file)."
        )
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=str(getattr(args, "log_level", "info")).lower(),
        log_config=None,  # uvicorn's loggers go to our handler, in HMTOCR_LOG_FORMAT
        access_log=False,  # api.access writes one line per request
        http=VendorH11Protocol,
        timeout_keep_alive=max(1, round(settings.keep_alive_s)),
        limit_concurrency=settings.max_connections,
        h11_max_incomplete_event_size=settings.max_header_bytes,
    )
    return 0
