"""`hmtocr bench speed`: latency per stage and end to end, service throughput, peak memory.

In process: each engine runs in its own spawned child process (so peak RSS is that engine's), is
warmed up, then timed `repeat` times per image size; stage times come from `CardResult.timings`.
Through HTTP (`--http`): the real service (`hmtocr serve`) is started per engine on a free loopback
port with a temporary key, requests are signed like any client's, and throughput is measured at each
concurrency level. The baseline is measured in the same run; machine facts go beside the figures.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import socket
import statistics
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

logger = logging.getLogger(__name__)

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


# ---------------------------------------------------------------------------------------------------
# statistics


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summarize(values: Sequence[float]) -> dict[str, float | None]:
    return {
        "median_ms": statistics.median(values) if values else None,
        "p95_ms": percentile(values, 95),
        "mean_ms": statistics.fmean(values) if values else None,
        "n": float(len(values)),
    }


# ---------------------------------------------------------------------------------------------------
# test images


def _fallback_card(seed: int) -> Any:
    """A plain rendered permit front on a desk-coloured background (when the generator is absent)."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(seed)
    card = Image.new("RGB", (1712, 1080), (236, 240, 246))
    draw = ImageDraw.Draw(card)
    font = ImageFont.truetype(CJK_FONT, 52)
    lines = [
        ((110, 110), "姓名  陈美玲"), ((110, 220), "性别  女"), ((110, 330), "出生  1997 年 6 月 2 日"),
        ((110, 440), "住址  广东省深圳市福田区福华路"), ((245, 530), "100号"),
        ((110, 880), "公民身份号码   830000199706020042"),
    ]
    for xy, text in lines:
        draw.text(xy, text, font=font, fill=(25, 25, 30))
    draw.rectangle((1250, 150, 1600, 620), fill=(200, 205, 215))
    canvas = Image.new("RGB", (2200, 1600), tuple(int(c) for c in rng.integers(60, 120, 3)))
    canvas.paste(card, (244, 260))
    return np.asarray(canvas)[:, :, ::-1].copy()


def sample_image_bgr(seed: int = 7) -> tuple[Any, str]:
    """A card photo (front, `photo` tier) as BGR pixels, and where it came from."""
    try:
        import cv2
        import numpy as np

        from benchmarks.synth import generate_sample

        sample = generate_sample(seed=seed, tier="photo", side=0)
        img = cv2.imdecode(np.frombuffer(sample.image_bytes, np.uint8), cv2.IMREAD_COLOR)
        if img is not None:
            return img, f"benchmarks.synth.generate_sample(seed={seed}, tier='photo', side=0)"
    except Exception as exc:  # the generator is optional here; say what was used instead
        logger.info("generator unavailable (%s): using a plain rendered card", exc)
    return _fallback_card(seed), "fallback rendered card"


def image_at_long_side(img_bgr: Any, long_side_px: int, quality: int = 92) -> bytes:
    import cv2

    h, w = img_bgr.shape[:2]
    scale = long_side_px / max(h, w)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(img_bgr, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=interp)
    ok, buf = cv2.imencode(".jpg", resized, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return bytes(buf)


# ---------------------------------------------------------------------------------------------------
# in process (runs in a child process)


def _rss_mib() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def _peak_rss_mib() -> float:
    import resource

    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return float(peak_kib) / 1024.0


# A fixed model run that says how fast this machine is at the moment: shared cloud cores vary by a third and
# more between hours, so figures from different runs compare only beside it.
_REFERENCE_SHAPE = (1, 3, 48, 320)
_REFERENCE_RUNS = 15


def reference_ms(runs: int = _REFERENCE_RUNS) -> float:
    """Median milliseconds of the float text recogniser on one fixed 48 x 320 input, on one thread."""
    import numpy as np
    import onnxruntime as ort

    from models.registry import resolve_model_path

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(
        str(resolve_model_path("text_rec")), sess_options=options, providers=["CPUExecutionProvider"]
    )
    feed = {session.get_inputs()[0].name: np.random.default_rng(0).uniform(-1, 1, _REFERENCE_SHAPE).astype(np.float32)}
    session.run(None, feed)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        session.run(None, feed)
        times.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(times)


def time_engine_in_process(
    engine_name: str, images: dict[int, bytes], repeat: int, warmup: int, threads: int
) -> dict[str, Any]:
    """Child-process body: build, warm up, time. Returns JSON-ready figures."""
    from api.engines import build_engine
    from benchmarks.machine import providers_of
    from engine.config import EngineConfig
    from engine.types import RecognizeOptions

    rss_start = _rss_mib()
    t0 = time.perf_counter()
    engine = build_engine(engine_name, EngineConfig(intra_op_threads=threads))
    build_ms = (time.perf_counter() - t0) * 1000.0
    options = RecognizeOptions(return_portrait=True)
    reference_before = reference_ms()
    sizes: dict[str, Any] = {}
    for size, data in images.items():
        errors: dict[str, int] = {}

        def call(data: bytes = data, errors: dict[str, int] = errors) -> Any:
            try:
                return engine.recognize(data, options)
            except Exception as exc:  # an engine error on a test image is recorded, not fatal
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return None

        for _ in range(warmup):
            call()
        end_to_end: list[float] = []
        stages: dict[str, list[float]] = {}
        for _ in range(repeat):
            t = time.perf_counter()
            result = call()
            end_to_end.append((time.perf_counter() - t) * 1000.0)
            for timing in getattr(result, "timings", ()):
                stages.setdefault(timing.stage, []).append(timing.elapsed_ms)
        sizes[str(size)] = {
            "image_bytes": len(data),
            "end_to_end": summarize(end_to_end),
            "stages": {k: summarize(v) for k, v in stages.items()},
            "errors": errors,
        }
    return {
        "engine": engine_name,
        "build_ms": build_ms,
        "providers": providers_of(engine),
        "rss_start_mib": rss_start,
        "rss_end_mib": _rss_mib(),
        "peak_rss_mib": _peak_rss_mib(),
        "sizes": sizes,
        "reference_ms": [reference_before, reference_ms()],
    }


def run_isolated(
    engine_name: str, images: dict[int, bytes], repeat: int, warmup: int, threads: int
) -> dict[str, Any]:
    """`time_engine_in_process` in a fresh spawned process, so memory and thread pools are its own."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(time_engine_in_process, engine_name, images, repeat, warmup, threads).result()


# ---------------------------------------------------------------------------------------------------
# through the real service


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


# ---------------------------------------------------------------------------------------------------
# report


def _ms(value: Any) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def markdown(report: dict[str, Any]) -> str:
    engines = [e["engine"] for e in report["in_process"]]
    head = "| size (px) | figure | " + " | ".join(engines) + " |"
    lines = ["## Speed: in process (median / p95 ms)", "", head, "|---|---|" + "---|" * len(engines)]
    for size in report["sizes"]:
        per = [e["sizes"].get(str(size), {}) for e in report["in_process"]]
        stage_names: list[str] = []
        for p in per:
            stage_names += [s for s in p.get("stages", {}) if s not in stage_names]

        def cell(p: dict[str, Any], key: str, stage: str | None = None) -> str:
            s = p.get("stages", {}).get(stage) if stage else p.get(key)
            return f"{_ms(s['median_ms'])} / {_ms(s['p95_ms'])}" if s else "n/a"

        lines.append(f"| {size} | end to end | " + " | ".join(cell(p, "end_to_end") for p in per) + " |")
        for stage in stage_names:
            lines.append(f"| {size} | stage `{stage}` | " + " | ".join(cell(p, "", stage) for p in per) + " |")
        errs = [", ".join(f"{k}: {v}" for k, v in p.get("errors", {}).items()) or "-" for p in per]
        lines.append(f"| {size} | engine errors | " + " | ".join(errs) + " |")
    rss = [f"{e['peak_rss_mib']:.0f}" for e in report["in_process"]]
    providers = [",".join(e["providers"]) or "n/a" for e in report["in_process"]]
    lines.append("| | peak RSS (MiB) | " + " | ".join(rss) + " |")
    reference = [
        " / ".join(f"{v:.1f}" for v in e["reference_ms"]) if e.get("reference_ms") else "n/a"
        for e in report["in_process"]
    ]
    lines.append("| | machine reference (ms, before / after) | " + " | ".join(reference) + " |")
    lines.append("| | providers | " + " | ".join(providers) + " |")
    if report.get("http"):
        http = report["http"]
        names = [h["engine"] for h in http]
        lines += ["", f"## Speed: through the service ({report['http_size']} px; req/s, median / p95 ms)", "",
                  "| concurrency | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for level in report["concurrency"]:
            cells = []
            for h in http:
                c = h["concurrency"].get(str(level))
                if not c:
                    cells.append("n/a")
                    continue
                rps = "n/a" if c["requests_per_s"] is None else f"{c['requests_per_s']:.2f}"
                lat = c["latency"]
                fail = f", {c['failures']} failed" if c["failures"] else ""
                cells.append(f"{rps} req/s, {_ms(lat['median_ms'])} / {_ms(lat['p95_ms'])}{fail}")
            lines.append(f"| {level} | " + " | ".join(cells) + " |")
        lines.append("| server peak RSS (MiB) | " + " | ".join(f"{h['server_peak_rss_mib']:.0f}" for h in http) + " |")
    return "\n".join(lines) + "\n"


def handle(args: Any) -> int:
    """The `bench speed` handler."""
    from benchmarks.machine import machine_info, markdown_machine

    engines: list[str] = list(args.engine or ["hmt", "baseline"])
    if "baseline" not in engines:
        logger.info("the baseline is always measured beside the others")
        engines.append("baseline")
    if args.image:
        import cv2

        img_bgr, source = cv2.imread(str(args.image), cv2.IMREAD_COLOR), f"file {args.image}"
        if img_bgr is None:
            logger.error("cannot read %s", args.image)
            return 2
    else:
        img_bgr, source = sample_image_bgr()
    images = {size: image_at_long_side(img_bgr, size) for size in args.sizes}
    report: dict[str, Any] = {
        "sizes": list(args.sizes), "repeat": args.repeat, "warmup": args.warmup, "image_source": source,
        "threads": args.threads, "in_process": [], "http": [], "concurrency": list(args.concurrency),
    }
    for name in engines:
        logger.info("timing %s in process", name)
        try:
            report["in_process"].append(run_isolated(name, images, args.repeat, args.warmup, args.threads))
        except Exception as exc:
            logger.error("engine %s could not be timed: %s", name, exc)
            report["in_process"].append({"engine": name, "error": str(exc), "sizes": {}, "providers": [],
                                         "peak_rss_mib": math.nan})
    if args.http:
        http_size = 1600 if 1600 in args.sizes else args.sizes[0]
        report["http_size"] = http_size
        for name in engines:
            logger.info("timing %s through the service", name)
            try:
                report["http"].append(time_service(
                    name, images[http_size], args.concurrency, args.requests, args.warmup,
                    args.threads or None,
                ))
            except Exception as exc:
                logger.error("service with %s could not be timed: %s", name, exc)
                report["http"].append({"engine": name, "error": str(exc), "concurrency": {},
                                       "server_peak_rss_mib": math.nan})
    report["machine"] = machine_info(engines, {e["engine"]: e.get("providers", []) for e in report["in_process"]})
    text = (
        markdown(report)
        + "\n"
        + markdown_machine(report["machine"])
        + f"\nImages: {source}.\nMachine reference: the float text recogniser on one fixed 48 x 320 input, one thread"
        + f" (median of {_REFERENCE_RUNS}), measured in each engine's process before and after its timing:"
        + " compare figures of different runs only where it agrees.\n"
    )
    print(text)
    if args.json:
        buf = io.StringIO()
        json.dump(report, buf, ensure_ascii=False, indent=1, default=str)
        Path(args.json).write_text(buf.getvalue().replace("NaN", "null"), encoding="utf-8")
    return 0
