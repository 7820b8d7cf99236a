"""What every benchmark figure is recorded beside: machine, providers, threads, library versions."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

LIBRARIES = (
    "onnxruntime", "onnxruntime-gpu", "rapidocr", "opencv-python-headless", "numpy", "pillow",
    "fastapi", "uvicorn", "httpx", "pydantic",
)
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "HMTOCR_INTRA_OP_THREADS")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def library_versions(names: Iterable[str] = LIBRARIES) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def machine_info(engine_names: Iterable[str] = (), active_providers: dict[str, Any] | None = None) -> dict[str, Any]:
    """Machine facts as JSON; `active_providers` maps engine name to the providers it really uses."""
    import psutil

    try:
        import onnxruntime as ort

        available = list(ort.get_available_providers())
        ort_version: str | None = ort.__version__
    except ImportError:
        available, ort_version = [], None
    try:
        import cv2

        cv2_threads: int | None = int(cv2.getNumThreads())
    except ImportError:
        cv2_threads = None
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    return {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "usable_cores": affinity,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "onnxruntime": ort_version,
        "onnxruntime_available_providers": available,
        "active_providers": active_providers or {},
        "opencv_threads": cv2_threads,
        "thread_env": {k: os.environ[k] for k in THREAD_ENV if k in os.environ},
        "libraries": library_versions(),
        "engines": list(engine_names),
        "git_commit": _git_commit(),
    }


def providers_of(engine: Any) -> list[str]:
    """The providers an engine reports (`providers` attribute), else the active provider of each shared
    session created in this process (`model: provider`)."""
    value = getattr(engine, "providers", None)
    if callable(value):
        value = value()
    if value:
        return [str(v) for v in value]
    from engine.onnx_session import active_providers

    return sorted(f"{model}: {provider}" for model, provider in active_providers().items())


def markdown_machine(info: dict[str, Any]) -> str:
    libs = ", ".join(f"{k} {v}" for k, v in info.get("libraries", {}).items())
    return (
        f"Machine: {info['cpu_model']}, {info['logical_cores']} logical cores "
        f"({info['usable_cores']} usable), {info['memory_gib']} GiB; Python {info['python']}; "
        f"onnxruntime {info['onnxruntime']} providers {info['onnxruntime_available_providers']}, "
        f"active {info['active_providers']}; threads env {info['thread_env']}; {libs}; "
        f"commit {info['git_commit']}"
    )
