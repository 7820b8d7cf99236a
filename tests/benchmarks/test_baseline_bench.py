"""`bench speed` with the baseline: statistics, test images, and one real run (in process and HTTP)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks import cli as bench_cli
from benchmarks.speed_engine import image_at_long_side, sample_image_bgr
from benchmarks.speed_stats import percentile, summarize


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([1.0], 95, 1.0), ([1.0, 2.0], 50, 1.5), ([10.0, 20.0, 30.0, 40.0, 50.0], 95, 48.0),
     ([5.0, 1.0, 3.0], 0, 1.0), ([5.0, 1.0, 3.0], 100, 5.0)],
)
def test_percentile(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_summarize() -> None:
    s = summarize([30.0, 10.0, 20.0])
    assert (s["median_ms"], s["mean_ms"], s["n"]) == (20.0, 20.0, 3.0)
    assert summarize([])["median_ms"] is None


@pytest.mark.parametrize("long_side", [800, 1600, 3000])
def test_images_at_long_side(long_side: int) -> None:
    img = np.full((600, 1000, 3), 128, np.uint8)
    out = cv2.imdecode(np.frombuffer(image_at_long_side(img, long_side), np.uint8), cv2.IMREAD_COLOR)
    assert max(out.shape[:2]) == long_side
    assert out.shape[1] / out.shape[0] == pytest.approx(1000 / 600, rel=0.01)


def test_sample_image_is_a_card_photo() -> None:
    img, source = sample_image_bgr()
    assert img.ndim == 3 and min(img.shape[:2]) >= 200
    assert source


@pytest.mark.slow
def test_speed_run_with_baseline_in_process_and_through_the_service(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    bench_cli.register(parser.add_subparsers(dest="command"))
    out = tmp_path / "speed.json"
    # A plain card with three lines keeps the OCR cheap: this checks the plumbing, not speed.
    font = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    if not font.is_file():
        pytest.skip("CJK font not installed")
    from PIL import Image, ImageDraw, ImageFont

    card = Image.new("RGB", (960, 604), (240, 240, 240))
    draw = ImageDraw.Draw(card)
    for y, text in ((80, "姓名  陈美玲"), (180, "出生  1997 年 6 月 2 日"), (480, "公民身份号码  830000199706020042")):
        draw.text((60, y), text, font=ImageFont.truetype(str(font), 34), fill=(20, 20, 20))
    card.save(tmp_path / "card.png")
    args = parser.parse_args([
        "bench", "speed", "--engine", "baseline", "--sizes", "800", "--repeat", "1", "--warmup", "0",
        "--http", "--concurrency", "1", "2", "--requests", "2", "--threads", "1", "--json", str(out),
        "--image", str(tmp_path / "card.png"),
    ])
    assert args.handler(args) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    [in_process] = report["in_process"]
    assert in_process["engine"] == "baseline" and "error" not in in_process
    size = in_process["sizes"]["800"]
    assert size["end_to_end"]["median_ms"] > 0 and size["end_to_end"]["n"] == 1
    assert size["errors"] == {}
    assert {"decode", "ocr", "parse"} <= set(size["stages"])
    assert in_process["peak_rss_mib"] > 50
    before, after = in_process["reference_ms"]  # the machine's speed beside the figures
    assert before > 0 and after > 0
    assert in_process["providers"] == ["CPUExecutionProvider"]
    [http] = report["http"]
    assert "error" not in http, http
    for level in ("1", "2"):
        assert http["concurrency"][level]["failures"] == 0, http["concurrency"][level]
        assert http["concurrency"][level]["requests_per_s"] > 0
    assert http["server_peak_rss_mib"] > 50
    machine = report["machine"]
    assert machine["onnxruntime"] and machine["cpu_model"] and machine["libraries"]["rapidocr"] == "3.10.0"
