"""`bench speed --http`: the real service started per engine, timed at each concurrency level.

`serve` starts `hmtocr serve` on a free loopback port with a temporary key and state folder; requests are
signed like any client's; the server's process tree is sampled for its peak RSS while it works.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.speed_stats import summarize

logger = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Until `/healthz` answers 200 (the engine is built), or the server dies."""
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"server not ready on port {port} after {timeout_s:.0f} s")


@contextmanager
def serve(
    engine_name: str, threads: int | None = None, timeout_s: float = 120.0
) -> Iterator[tuple[str, str, str, int]]:
    """Starts `hmtocr serve` on a free loopback port; yields (base URL, key, secret, server pid)."""
    key, secret = "bench-key", os.urandom(16).hex()
    with tempfile.TemporaryDirectory(prefix="hmtocr-bench-") as tmp:
        port = free_port()
        env = dict(os.environ)
        env.update(
            {
                "HMTOCR_API_KEYS": f"{key}:{secret}",
                "HMTOCR_STATE_DB": str(Path(tmp) / "state.sqlite3"),
                "HMTOCR_GENERATED_KEYS_FILE": str(Path(tmp) / "keys.json"),
            }
        )
        if threads:
            env["HMTOCR_INTRA_OP_THREADS"] = str(threads)
        log_path = Path(tmp) / "server.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "--log-level", "WARNING", "serve",
                 "--host", "127.0.0.1", "--port", str(port), "--engine", engine_name],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )
            try:
                _wait_ready(port, proc, timeout_s)
                yield f"http://127.0.0.1:{port}", key, secret, proc.pid
            except Exception:
                logger.error("server log:\n%s", log_path.read_text(errors="replace")[-3000:])
                raise
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


class _RssSampler:
    """Samples a process tree's RSS in the background; `peak_mib` after `stop()`."""

    def __init__(self, pid: int, interval_s: float = 0.05) -> None:
        self._pid, self._interval = pid, interval_s
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self._pid)
        except psutil.Error:
            return
        while not self._stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in procs)
                self.peak_mib = max(self.peak_mib, rss / 2**20)
            except psutil.Error:
                pass
            self._stop.wait(self._interval)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def time_service(
    engine_name: str, image: bytes, concurrency: Sequence[int], requests: int, warmup: int,
    threads: int | None = None,
) -> dict[str, Any]:
    from benchmarks.runners import HttpRunner

    levels: dict[str, Any] = {}
    with serve(engine_name, threads) as (url, key, secret, pid), _RssSampler(pid) as sampler:
        runner = HttpRunner(url, key, secret, name=f"service:{engine_name}", timeout_s=300)
        try:
            for _ in range(max(1, warmup)):
                first = runner.predict(image)
            for level in concurrency:
                with ThreadPoolExecutor(max_workers=level) as pool:
                    t0 = time.perf_counter()
                    preds = list(pool.map(lambda _: runner.predict(image), range(requests)))
                    wall = time.perf_counter() - t0
                failures = [p.failure for p in preds if p.failure]
                levels[str(level)] = {
                    "requests": requests,
                    "requests_per_s": requests / wall if wall > 0 else None,
                    "latency": summarize([p.latency_ms for p in preds]),
                    "failures": len(failures),
                    "first_failure": failures[0] if failures else None,
                }
        finally:
            runner.close()
    return {
        "engine": engine_name,
        "server_intra_op_threads": threads or "service default (HMTOCR_INTRA_OP_THREADS)",
        "warmup_answer": first.failure or first.error or "card",
        "server_peak_rss_mib": sampler.peak_mib,
        "concurrency": levels,
    }
