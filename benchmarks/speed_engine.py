"""`bench speed` in process: test images, one engine timed in its own spawned process.

The child builds the engine, warms it up and times `repeat` calls per image size; stage times come from
`CardResult.timings`, memory from the child's own RSS, and a fixed onnxruntime reference run before and
after tells a slow machine from a slow engine.
"""

from __future__ import annotations

import logging
import statistics
import time
from typing import Any

from benchmarks.speed_stats import summarize

logger = logging.getLogger(__name__)


CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


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


REFERENCE_RUNS = 15


def reference_ms(runs: int = REFERENCE_RUNS) -> float:
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
