"""Provider selection is pure; a CUDA request on a machine without CUDA must fall back to CPU and say so."""

import logging

import pytest

from engine.config import EngineConfig
from engine.onnx_session import active_provider, requested_providers, shared_session

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


@pytest.mark.parametrize(
    ("device", "available", "first"),
    [
        ("cpu", [CUDA, CPU], CPU),
        ("cpu", [CPU], CPU),
        ("cuda", [CPU], CUDA),  # asked for explicitly: tried, and the fallback is logged
        ("cuda", [CUDA, CPU], CUDA),
        ("auto", [CUDA, CPU], CUDA),
        ("auto", [CPU], CPU),
    ],
)
def test_requested_providers(device: str, available: list[str], first: str) -> None:
    providers = requested_providers(EngineConfig(device=device), available)  # type: ignore[arg-type]
    name = providers[0] if isinstance(providers[0], str) else providers[0][0]
    assert name == first
    assert providers[-1] == CPU


def test_cuda_options_avoid_exhaustive_search() -> None:
    providers = requested_providers(EngineConfig(device="cuda", device_id=1), [CUDA, CPU])
    name, options = providers[0]  # type: ignore[misc]
    assert name == CUDA
    assert options["cudnn_conv_algo_search"] == "HEURISTIC"
    assert options["device_id"] == "1"


def test_cuda_request_without_gpu_runs_on_cpu_and_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    import onnxruntime as ort

    caplog.set_level(logging.INFO, logger="engine.onnx_session")
    session = shared_session("text_cls", EngineConfig(device="cuda", intra_op_threads=1))
    if CUDA in ort.get_available_providers():  # on a GPU machine the request must be honoured
        assert active_provider(session) == CUDA
        return
    assert active_provider(session) == CPU
    assert any("CUDA was requested" in r.getMessage() for r in caplog.records)


def test_sessions_are_shared_per_model_and_config() -> None:
    config = EngineConfig(intra_op_threads=1)
    assert shared_session("text_cls", config) is shared_session("text_cls", config)


@pytest.mark.parametrize(
    ("precision", "on_gpu", "built", "expected"),
    [
        ("int8", False, True, "text_det_int8"),
        ("int8", True, True, "text_det"),  # int8 gains nothing on CUDA
        ("fp32", False, True, "text_det"),
        ("int8", False, False, "text_det"),  # not built: the float model, and a warning
    ],
)
def test_detector_model_choice(
    precision: str, on_gpu: bool, built: bool, expected: str, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from pathlib import Path

    import engine.onnx_session as onnx_session

    monkeypatch.setattr(onnx_session, "resolve_derived_path", lambda name: Path(name) if built else None)
    caplog.set_level(logging.WARNING, logger="engine.onnx_session")
    config = EngineConfig(det_precision=precision)  # type: ignore[arg-type]
    assert onnx_session.detector_model(config, on_gpu) == expected
    assert any("was not built" in r.getMessage() for r in caplog.records) == (not built and not on_gpu)
