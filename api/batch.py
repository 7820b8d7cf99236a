"""`hmtocr recognize`: read many images with the engine, one JSON line each, resumable.

Each line is `{"path", "status", "response"}` where `response` is exactly what the HTTP service would
answer for that image (the vendor JSON, or the vendor error body). Lines are appended and flushed as
images finish, so an interrupted run loses at most the images in flight; a rerun skips every path
already in the output file.
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("recognize", help="read images (files, folders, globs) into a JSON-lines file")
    p.add_argument("paths", nargs="+", help="image files, folders (searched recursively) or glob patterns")
    p.add_argument("--out", default="results.jsonl", help="output JSON-lines file (appended; resumable)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="images read in parallel")
    p.add_argument("--engine", default="hmt", help="engine name (hmt, baseline)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"), help="onnxruntime device")
    p.add_argument("--return-portrait", action="store_true", help="include the portrait JPEG (base64)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def expand_paths(patterns: Iterable[str]) -> list[Path]:
    """Files, folders (recursively, image suffixes only) and globs, de-duplicated, in a stable order."""
    found: dict[str, Path] = {}
    for pattern in patterns:
        matches = [Path(m) for m in sorted(glob.glob(pattern, recursive=True))] or [Path(pattern)]
        for match in matches:
            if match.is_dir():
                for f in sorted(match.rglob("*")):
                    if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES:
                        found.setdefault(str(f.resolve()), f)
            else:
                found.setdefault(str(match.resolve()), match)
    return list(found.values())


def done_paths(out_path: Path) -> set[str]:
    """Paths already answered in an earlier run; a line cut short by a crash is dropped from the file."""
    if not out_path.exists():
        return set()
    data = out_path.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
        out_path.write_bytes(data)
    done = set()
    for line in data.decode("utf-8", errors="replace").splitlines():
        try:
            done.add(str(json.loads(line)["path"]))
        except (ValueError, KeyError, TypeError):
            continue
    return done


def recognize_one(engine: Any, path: Path, return_portrait: bool) -> dict[str, Any]:
    from api.errors import from_exception
    from api.logs import new_request_id
    from api.wire import card_result_to_wire, error_body
    from engine.types import RecognizeOptions

    request_id = new_request_id()
    start = time.perf_counter()
    try:
        image_bytes = path.read_bytes()
        result = engine.recognize(image_bytes, RecognizeOptions(return_portrait=return_portrait))
        used = int((time.perf_counter() - start) * 1000)
        body = card_result_to_wire(result, request_id=request_id, time_used_ms=used, return_portrait=return_portrait)
        return {"path": str(path), "status": 200, "response": body}
    except Exception as exc:  # one bad image is a line with its error, never the end of the run
        api_error = from_exception(exc)
        if api_error.status == 500:
            logger.exception("image failed with an internal error (request %s)", request_id)
        used = int((time.perf_counter() - start) * 1000)
        rid = request_id if api_error.carries_request_id else None
        return {
            "path": str(path),
            "status": api_error.status,
            "response": error_body(api_error.error, request_id=rid, time_used_ms=used),
        }


def _bounded(executor: ThreadPoolExecutor, fn: Any, items: Sequence[Path], limit: int) -> Iterator[Future[Any]]:
    """Submit at most `limit` tasks ahead, so millions of paths do not become millions of futures."""
    pending: set[Future[Any]] = set()
    for item in items:
        pending.add(executor.submit(fn, item))
        if len(pending) >= limit:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from finished
    while pending:
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        yield from finished


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from api.engines import build_engine
    from engine.config import EngineConfig

    out_path = Path(args.out)
    paths = expand_paths(args.paths)
    done = done_paths(out_path)
    todo = [p for p in paths if str(p) not in done]
    logger.info(
        "%d images found, %d already in %s, %d to read", len(paths), len(paths) - len(todo), out_path, len(todo)
    )
    if not todo:
        return 0
    workers = max(1, int(args.workers))
    cores = os.cpu_count() or 1
    config = EngineConfig(device=args.device, intra_op_threads=max(1, cores // workers))
    engine = build_engine(args.engine, config)
    lock = threading.Lock()
    failures = 0
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        out_path.open("a", encoding="utf-8") as out,
        ThreadPoolExecutor(max_workers=workers) as pool,
        tqdm(total=len(todo), unit="img", disable=args.no_progress, dynamic_ncols=True) as bar,
    ):
        for future in _bounded(pool, lambda p: recognize_one(engine, p, args.return_portrait), todo, 4 * workers):
            line = future.result()
            failures += line["status"] != 200
            with lock:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                out.flush()
            bar.update(1)
            bar.set_postfix(errors=failures)
    logger.info("done: %d read, %d answered with an error", len(todo), failures)
    return 0
