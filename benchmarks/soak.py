"""`hmtocr bench soak --minutes N`: the real service under a closed loop of valid and bad requests.

It starts `hmtocr serve` on a free loopback port (a temporary key and state DB), and `concurrency`
clients send requests back to back, a share of them bad (a wrong sign, an unknown key, undecodable
bytes, a missing image, a 1 MiB junk upload, a decompression bomb). Every interval it prints the
status counts, p50 and p99 latency and the server's RSS. It fails (exit status 1) on any 500, on a
response that is not the vendor's, or on RSS growing more than `max_rss_growth` over its level at
the end of the warm-up.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from api.auth import build_sign
from benchmarks.machine import machine_info
from benchmarks.speed_stats import percentile

ENDPOINT = "/faceid/v5/ocr_residence_permit_card"
START_TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class Outcome:
    at_s: float
    status: int
    error: str
    latency_ms: float
    bad: bool


@dataclass
class Interval:
    minute: float
    counts: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    rss_mib: float = 0.0

    def row(self) -> dict[str, Any]:
        return {
            "minute": round(self.minute, 2),
            "requests": sum(self.counts.values()),
            "counts": dict(sorted(self.counts.items())),
            "p50_ms": _round(percentile(self.latencies_ms, 50)),
            "p99_ms": _round(percentile(self.latencies_ms, 99)),
            "rss_mib": round(self.rss_mib, 1),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(engine: str, key: str, secret: str, workdir: Path) -> Iterator[tuple[str, psutil.Process]]:
    port = _free_port()
    env = {
        **os.environ,
        "HMTOCR_ENGINE": engine,
        "HMTOCR_API_KEYS": f"{key}:{secret}",
        "HMTOCR_KEYS_FILE": "",
        "HMTOCR_STATE_DB": str(workdir / "state.sqlite3"),
    }
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited ({proc.returncode}); see {workdir / 'server.log'}")
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server not ready")
            time.sleep(0.5)
        yield url, psutil.Process(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _valid_images(n: int) -> list[bytes]:
    from benchmarks.synth import generate_sample

    tiers = ("clean", "photo")
    return [generate_sample(seed=100 + i, tier=tiers[i % 2], side=i % 2).image_bytes for i in range(n)]


def _bomb() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (7999, 7999), 1).save(buf, "PNG", optimize=True)
    return buf.getvalue()


Request = Callable[[httpx.Client, str], httpx.Response]


def _requests(key: str, secret: str, images: list[bytes]) -> tuple[list[Request], list[Request]]:
    """(valid, bad) request makers; each signs afresh."""

    def send(image: bytes | None, sign_key: str = key, sign_secret: str = secret) -> Request:
        def call(client: httpx.Client, url: str) -> httpx.Response:
            data = {"sign": build_sign(sign_key, sign_secret), "sign_version": "hmac_sha1"}
            files = {"image": ("a.jpg", image, "image/jpeg")} if image is not None else None
            return client.post(url + ENDPOINT, data=data, files=files)

        return call

    valid = [send(image) for image in images]
    bad = [
        send(images[0], sign_secret="wrong"),
        send(images[0], sign_key="k-unknown"),
        send(os.urandom(4096)),
        send(None),
        send(os.urandom(1 << 20)),
        send(_bomb()),
    ]
    return valid, bad


def _is_vendor(response: httpx.Response) -> bool:
    if response.status_code == 413:
        return response.text == "Request Entity Too Large"
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and (response.status_code == 200 or isinstance(body.get("error"), str))


def run_soak(args: argparse.Namespace) -> dict[str, Any]:
    key, secret = "soak", secrets.token_urlsafe(16)
    images = _valid_images(args.images)
    valid, bad = _requests(key, secret, images)
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    stop = threading.Event()
    non_vendor: list[str] = []
    with tempfile.TemporaryDirectory(prefix="hmtocr-soak-") as tmp, running_server(
        args.engine, key, secret, Path(tmp)
    ) as (url, server):
        started = time.monotonic()
        deadline = started + args.minutes * 60

        def client_loop(seed: int) -> None:
            rng = random.Random(seed)
            with httpx.Client(timeout=120) as client:
                while not stop.is_set() and time.monotonic() < deadline:
                    is_bad = rng.random() < args.bad_share
                    call = rng.choice(bad if is_bad else valid)
                    t0 = time.monotonic()
                    try:
                        response = call(client, url)
                        status = response.status_code
                        error = "" if status == 200 else _error_of(response)
                        if not _is_vendor(response):
                            non_vendor.append(f"{status} {response.text[:80]!r}")
                    except httpx.HTTPError as exc:
                        status, error = 0, type(exc).__name__
                    with lock:
                        outcomes.append(Outcome(t0 - started, status, error, (time.monotonic() - t0) * 1000, is_bad))

        threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(args.concurrency)]
        for t in threads:
            t.start()
        intervals: list[Interval] = []
        seen = 0
        while time.monotonic() < deadline:
            time.sleep(min(args.interval_s, max(0.0, deadline - time.monotonic())))
            with lock:
                fresh, seen = outcomes[seen:], len(outcomes)
            interval = Interval(minute=(time.monotonic() - started) / 60, rss_mib=server.memory_info().rss / 2**20)
            for o in fresh:
                interval.counts[f"{o.status} {o.error}".strip()] += 1
                interval.latencies_ms.append(o.latency_ms)
            intervals.append(interval)
            print(json.dumps(interval.row(), ensure_ascii=False), flush=True)
        stop.set()
        for t in threads:
            t.join(timeout=180)
    return _verdict(args, intervals, outcomes, non_vendor)


def _error_of(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", ""))
    except (ValueError, AttributeError):
        return response.text[:40]


def _verdict(
    args: argparse.Namespace, intervals: list[Interval], outcomes: list[Outcome], non_vendor: list[str]
) -> dict[str, Any]:
    warm = [i for i in intervals if i.minute >= args.warmup_minutes] or intervals[-1:]
    base_rss = warm[0].rss_mib if warm else 0.0
    peak_rss = max((i.rss_mib for i in warm), default=0.0)
    growth = (peak_rss - base_rss) / base_rss if base_rss else 0.0
    totals = Counter(f"{o.status} {o.error}".strip() for o in outcomes)
    server_errors = sum(n for k, n in totals.items() if k.startswith("5") or k.startswith("0 "))
    failures = []
    if server_errors:
        failures.append(f"{server_errors} responses of 5xx or transport errors")
    if non_vendor:
        failures.append(f"{len(non_vendor)} responses not the vendor's, e.g. {non_vendor[0]}")
    if growth > args.max_rss_growth:
        failures.append(f"RSS grew {growth:.1%} after warm-up ({base_rss:.0f} -> {peak_rss:.0f} MiB)")
    latencies = [o.latency_ms for o in outcomes]
    return {
        "minutes": args.minutes,
        "concurrency": args.concurrency,
        "bad_share": args.bad_share,
        "engine": args.engine,
        "requests": len(outcomes),
        "totals": dict(sorted(totals.items())),
        "p50_ms": _round(percentile(latencies, 50)),
        "p99_ms": _round(percentile(latencies, 99)),
        "rss_after_warmup_mib": round(base_rss, 1),
        "rss_peak_after_warmup_mib": round(peak_rss, 1),
        "rss_growth": round(growth, 4),
        "intervals": [i.row() for i in intervals],
        "failures": failures,
        "passed": not failures,
        "machine": machine_info([args.engine]),
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "| minute | requests | status counts | p50 ms | p99 ms | server RSS MiB |",
        "|---:|---:|---|---:|---:|---:|",
    ]
    for row in report["intervals"]:
        counts = ", ".join(f"{k}: {v}" for k, v in row["counts"].items())
        lines.append(
            f"| {row['minute']:.1f} | {row['requests']} | {counts} | {row['p50_ms']} | {row['p99_ms']} | "
            f"{row['rss_mib']} |"
        )
    return "\n".join(lines) + "\n"


def handle(args: argparse.Namespace) -> int:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would drown the table
    report = run_soak(args)
    summary = {k: v for k, v in report.items() if k not in ("intervals", "machine")}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.markdown:
        Path(args.markdown).write_text(markdown(report), encoding="utf-8")
    for failure in report["failures"]:
        print(f"FAIL: {failure}")
    return 0 if report["passed"] else 1
