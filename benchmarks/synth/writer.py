"""Write a data set: `<index:05d>.jpg` + `<index:05d>.json` per sample, `index.jsonl` and `manifest.json`.

Samples are independent (each from its own seed derived from the set seed and the index), so the set
is the same whatever the number of worker processes.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


def sample_seed(set_seed: int, index: int) -> int:
    """The seed of sample `index` in the set with seed `set_seed` (stable across versions of numpy)."""
    return int(np.random.SeedSequence([int(set_seed), int(index)]).generate_state(1, np.uint64)[0] >> 16)


@dataclass(frozen=True, slots=True)
class WriteReport:
    n: int
    elapsed_s: float
    workers: int

    @property
    def images_per_s(self) -> float:
        return self.n / self.elapsed_s if self.elapsed_s > 0 else 0.0


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)  # one process per core; OpenCV's own threads would oversubscribe


def _write_one(job: tuple[str, int, int, str, str | None]) -> dict[str, Any]:
    from benchmarks.synth.generate import generate_sample

    out_dir, index, set_seed, tier, special = job
    sample = generate_sample(sample_seed(set_seed, index), tier, special=special)
    stem = f"{index:05d}"
    image_name = f"{stem}.{sample.ext}"
    Path(out_dir, image_name).write_bytes(sample.image_bytes)
    Path(out_dir, f"{stem}.json").write_text(json.dumps(sample.truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return {"index": index, "image": image_name, "truth": f"{stem}.json", **_summary(sample.truth)}


def _summary(truth: dict[str, Any]) -> dict[str, Any]:
    keys = ("tier", "kind", "side", "special", "completeness", "expected_error", "size_wh")
    return {k: truth.get(k) for k in keys}


def write_dataset(out_dir: str | Path, n: int, seed: int, tier: str = "mixed", workers: int | None = None,
                  special: str | None = None) -> WriteReport:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    jobs = [(str(out), i, seed, tier, special) for i in range(n)]
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    if workers == 1 or n <= 1:
        _init_worker()
        rows = [_write_one(j) for j in jobs]
    else:
        # "spawn": OpenCV's thread pool does not survive fork() (children can hang on their first cv2 call)
        ctx = mp.get_context("spawn")
        with ctx.Pool(workers, initializer=_init_worker) as pool:
            rows = list(pool.imap_unordered(_write_one, jobs, chunksize=max(1, min(8, n // (workers * 4) or 1))))
    elapsed = time.perf_counter() - t0
    rows.sort(key=lambda r: int(r["index"]))
    with (out / "index.jsonl").open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    report = WriteReport(n=n, elapsed_s=elapsed, workers=workers)
    manifest = {
        "generator": "benchmarks.synth", "n": n, "seed": seed, "tier": tier, "special": special, "workers": workers,
        "elapsed_s": round(elapsed, 3), "images_per_s": round(report.images_per_s, 2),
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()},
        "sample_seed": "numpy.random.SeedSequence([seed, index]).generate_state(1, uint64)[0] >> 16",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    log.info("wrote %d samples to %s in %.1f s (%.1f images/s, %d workers)", n, out, elapsed,
             report.images_per_s, workers)
    return report
