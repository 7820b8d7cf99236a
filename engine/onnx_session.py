"""One shared onnxruntime session per model per process, on the provider the configuration asks for.

A session asked for CUDA on a machine without a usable GPU silently runs on CPU; we check which
provider is really active and say so in one log line.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import replace
from pathlib import Path

import onnxruntime as ort

from engine.config import EngineConfig
from models.registry import ModelFileError, load_derived, resolve_derived_path, resolve_model_path

logger = logging.getLogger(__name__)

_CUDA = "CUDAExecutionProvider"
_CPU = "CPUExecutionProvider"
_INT8_DET = "text_det_int8"

_sessions: dict[tuple[str, EngineConfig], ort.InferenceSession] = {}
_lock = threading.Lock()
_dlls_preloaded = False


def requested_providers(config: EngineConfig, available: list[str]) -> list[str | tuple[str, dict[str, str]]]:
    """Provider list for a config; pure so tests can check the selection without a GPU."""
    wants_cuda = config.device == "cuda" or (config.device == "auto" and _CUDA in available)
    if not wants_cuda:
        return [_CPU]
    cuda_options = {
        "device_id": str(config.device_id),
        # EXHAUSTIVE re-benchmarks every new input shape; recognition widths vary per batch.
        "cudnn_conv_algo_search": "HEURISTIC",
        "arena_extend_strategy": "kSameAsRequested",
    }
    return [(_CUDA, cuda_options), _CPU]


def _preload_cuda_dlls() -> None:
    global _dlls_preloaded
    preload = getattr(ort, "preload_dlls", None)
    if preload is not None and not _dlls_preloaded:
        try:
            preload()
        except Exception as exc:  # missing wheels just mean no CUDA; the fallback is logged below
            logger.debug("onnxruntime.preload_dlls failed: %s", exc)
        _dlls_preloaded = True


def _model_path(model_name: str) -> Path:
    if model_name not in load_derived():
        return resolve_model_path(model_name)
    path = resolve_derived_path(model_name)
    if path is None:
        raise ModelFileError(f"model {model_name!r} was not built: run `hmtocr models install`")
    return path


def detector_model(config: EngineConfig, on_gpu: bool) -> str:
    """The flat card's text detector: int8 on CPU (2x faster, the same lines; built at `make setup`), the
    float model on a GPU (int8 gains nothing there) or when asked for or not built."""
    if on_gpu or config.det_precision == "fp32":
        return "text_det"
    if resolve_derived_path(_INT8_DET) is None:
        logger.warning(
            "model %s was not built (`hmtocr models install`): detecting text with the float model", _INT8_DET
        )
        return "text_det"
    return _INT8_DET


def line_model_threading(config: EngineConfig) -> tuple[EngineConfig, int]:
    """The config for the line models' sessions, and how many of their runs go side by side.

    Their inputs are 48 px high: one thread per run, with a card's runs spread over the cores, beats every
    run split over all threads (2 cores: recognition ~20 % faster). A service reading one request at a time
    with one thread per request gets its lines read on every core; under load the lanes only queue behind
    the cores (no thread spins). A GPU takes each batch whole.
    """
    if config.device == "cuda":
        return config, 1
    return replace(config, intra_op_threads=1), config.line_lanes or os.cpu_count() or 1


def _create(path: Path, config: EngineConfig) -> ort.InferenceSession:
    # Telemetry is on by default in onnxruntime; the service promises to record nothing but its counters.
    ort.disable_telemetry_events()
    options = ort.SessionOptions()
    options.intra_op_num_threads = config.intra_op_threads
    options.inter_op_num_threads = config.inter_op_threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # Each model has its own thread pool; a pool left spinning after its run takes a core from the next
    # model's pool (on 2 cores, the det pool slowed recognition). Workers sleep once their work is done.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    providers = requested_providers(config, ort.get_available_providers())
    if providers[0] != _CPU:
        _preload_cuda_dlls()
    session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
    active = session.get_providers()[0]
    if config.device == "cuda" and active != _CUDA:
        logger.warning("model %s: CUDA was requested but is not usable here; running on %s", path.name, active)
    else:
        logger.info("model %s: running on %s", path.name, active)
    return session


def shared_session(model_name: str, config: EngineConfig) -> ort.InferenceSession:
    """The process-wide session for a manifest model under this config (created on first use)."""
    key = (model_name, config)
    with _lock:
        session = _sessions.get(key)
        if session is None:
            session = _create(_model_path(model_name), config)
            _sessions[key] = session
        return session


def active_provider(session: ort.InferenceSession) -> str:
    return str(session.get_providers()[0])


def active_providers() -> dict[str, str]:
    """`model name: provider really running it` for every shared session created in this process."""
    with _lock:
        return {
            name: active_provider(session)
            for (name, _config), session in sorted(_sessions.items(), key=lambda kv: kv[0][0])
        }
