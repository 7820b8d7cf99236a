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
from pathlib import Path
from typing import Any

from benchmarks.speed_engine import REFERENCE_RUNS, image_at_long_side, run_isolated, sample_image_bgr
from benchmarks.speed_service import time_service

logger = logging.getLogger(__name__)


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
        + f" (median of {REFERENCE_RUNS}), measured in each engine's process before and after its timing:"
        + " compare figures of different runs only where it agrees.\n"
    )
    print(text)
    if args.json:
        buf = io.StringIO()
        json.dump(report, buf, ensure_ascii=False, indent=1, default=str)
        Path(args.json).write_text(buf.getvalue().replace("NaN", "null"), encoding="utf-8")
    return 0
