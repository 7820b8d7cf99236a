"""Model runs spread over lanes: every job runs once, the load is balanced, and the threading a config
gets for the line models."""

from __future__ import annotations

import os
import threading
import time

import pytest

from engine.config import EngineConfig
from engine.ocr.lanes import Lanes, balanced_groups
from engine.onnx_session import line_model_threading


@pytest.mark.parametrize(
    ("costs", "count", "groups"),
    [
        ([], 2, []),
        ([5.0], 2, [[0]]),
        ([1.0, 2.0, 3.0], 1, [[2, 1, 0]]),
        ([704.0, 576.0, 384.0, 384.0, 256.0, 128.0, 64.0], 2, [[0, 3, 5, 6], [1, 2, 4]]),  # 1280 and 1216 columns
        ([1.0, 1.0, 1.0, 1.0], 2, [[0, 2], [1, 3]]),
        ([10.0, 1.0, 1.0], 3, [[0], [1], [2]]),
        ([3.0, 3.0], 0, [[0, 1]]),  # a count below one is one lane
    ],
)
def test_balanced_groups(costs: list[float], count: int, groups: list[list[int]]) -> None:
    assert balanced_groups(costs, count) == groups


def test_balanced_groups_use_every_index_once_and_stay_within_the_largest_job_of_even() -> None:
    costs = [float((i * 37) % 23 + 1) for i in range(40)]
    groups = balanced_groups(costs, 3)
    assert sorted(i for g in groups for i in g) == list(range(40))
    totals = [sum(costs[i] for i in g) for g in groups]
    # largest-first greedy: no lane ends more than one job above a perfectly even share
    assert max(totals) <= sum(costs) / 3 + max(costs)


def test_lanes_run_every_job_once_on_separate_threads() -> None:
    ran: list[tuple[int, int]] = []
    lock = threading.Lock()
    started = threading.Barrier(2, timeout=5)

    def job(i: int) -> None:
        if i < 2:
            started.wait()  # both first jobs must be running at once, or this times out
        with lock:
            ran.append((i, threading.get_ident()))

    Lanes(2).run([lambda i=i: job(i) for i in range(5)], costs=[5.0, 4.0, 1.0, 1.0, 1.0])
    assert sorted(i for i, _ in ran) == [0, 1, 2, 3, 4]
    assert len({tid for _, tid in ran}) == 2


def test_one_lane_runs_in_order_on_the_calling_thread() -> None:
    ran: list[tuple[int, int]] = []
    Lanes(1).run([lambda i=i: ran.append((i, threading.get_ident())) for i in range(3)], costs=[1.0, 3.0, 2.0])
    assert ran == [(i, threading.get_ident()) for i in range(3)]


def test_a_failing_job_fails_the_run() -> None:
    def boom() -> None:
        time.sleep(0.01)
        raise ValueError("bad crop")

    with pytest.raises(ValueError, match="bad crop"):
        Lanes(2).run([lambda: None, boom], costs=[1.0, 1.0])


_CORES = os.cpu_count() or 1


@pytest.mark.parametrize(
    ("config", "session_threads", "lanes"),
    [
        (EngineConfig(), 1, _CORES),
        (EngineConfig(intra_op_threads=1), 1, _CORES),  # the service: one thread per request, its lines on every core
        (EngineConfig(intra_op_threads=4), 1, _CORES),
        (EngineConfig(line_lanes=3), 1, 3),
        (EngineConfig(line_lanes=1), 1, 1),
        (EngineConfig(intra_op_threads=2, device="cuda"), 2, 1),  # a GPU takes a batch whole
    ],
)
def test_line_model_threading(config: EngineConfig, session_threads: int, lanes: int) -> None:
    line_config, count = line_model_threading(config)
    assert (line_config.intra_op_threads, count) == (session_threads, lanes)
    assert line_config.det_precision == config.det_precision
