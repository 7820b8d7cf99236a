"""`hmtocr bench soak` end to end, for a few seconds: it starts the server, mixes valid and bad requests,
reports rows and a verdict (the hour-long run is in docs/BENCHMARKS.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.cli import register
from benchmarks.soak import handle, markdown, run_soak


def _args(**overrides: object) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["bench", "soak", "--minutes", "0.2"])
    for key, value in overrides.items():
        setattr(args, key, value)
    return args


def test_soak_smoke(tmp_path: Path) -> None:
    args = _args(interval_s=3.0, warmup_minutes=0.05, max_rss_growth=5.0, images=2, bad_share=0.3)
    report = run_soak(args)
    assert report["passed"], report["failures"]
    assert len(report["intervals"]) >= 3 and report["requests"] > 0
    assert "200" in report["totals"] and any(k.startswith(("400", "403")) for k in report["totals"])
    assert not any(k.startswith("5") for k in report["totals"])
    assert report["machine"]["python"]
    table = markdown(report)
    assert table.count("\n") == len(report["intervals"]) + 2


def test_soak_fails_on_rss_growth(tmp_path: Path) -> None:
    """Growth past the limit fails the run (any growth at all, with the limit at -100 %)."""
    code = handle(_args(minutes=0.05, interval_s=1.0, warmup_minutes=0.0, max_rss_growth=-1.0, images=1))
    assert code == 1
