"""Engine stages are built once per test session: model sessions are the expensive part."""

from __future__ import annotations

import pytest

from engine.config import EngineConfig
from engine.pipeline import CardPipeline, build_pipeline


@pytest.fixture(scope="session")
def pipeline() -> CardPipeline:
    return build_pipeline(EngineConfig(intra_op_threads=2))
