"""The service's one settings class (environment prefix `HMTOCR_`), turned into plain `EngineConfig`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.config import EngineConfig

MiB = 1024 * 1024


def _xdg(variable: str, fallback: str) -> Path:
    base = os.environ.get(variable)
    return (Path(base) if base else Path.home() / fallback) / "hmtocr"


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HMTOCR_", extra="ignore")

    # engine
    engine: str = Field(default="hmt", description="engine name for api.engines.build_engine: hmt | baseline")
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    device_id: int = 0
    intra_op_threads: int = Field(default=1, ge=0, description="onnxruntime threads per engine call")
    engine_threads: int = Field(default=0, ge=0, description="requests recognised at once; 0: one per core")
    queue_size: int = Field(default=8, ge=0, description="requests waiting for a thread before refusing")

    # limits
    max_image_bytes: int = Field(default=10 * MiB, gt=0, description="decoded image; larger -> 413")
    # The body limit leaves room for an encrypted image (Base64 is 4/3 of the file) and form overhead.
    max_body_bytes: int = Field(default=14 * MiB, gt=0, description="request body; larger -> 413 while streaming")

    # authentication and keys
    api_keys: str = Field(default="", description="key:secret[,key:secret...]")
    keys_file: Path | None = None
    # Outside the checkout, so a generated secret can never be committed by accident.
    generated_keys_file: Path = Field(default_factory=lambda: _xdg("XDG_CONFIG_HOME", ".config") / "keys.json")
    state_db: Path = Field(default_factory=lambda: _xdg("XDG_STATE_HOME", ".local/state") / "state.sqlite3")
    clock_skew_s: int = Field(default=300, ge=0)
    single_use_max_age_s: int = Field(default=86400, gt=0)
    # A sign is a bearer token: one that lives for years is a leaked secret in all but name.
    max_sign_lifetime_s: int = Field(default=30 * 86400, gt=0, description="longest b - c of a reusable sign")

    # connections (a client that sends slowly, or not at all, is cut off; see docs/CLIENT.md)
    header_timeout_s: float = Field(default=10.0, gt=0, description="a request's headers must arrive within this")
    body_idle_timeout_s: float = Field(default=15.0, gt=0, description="longest gap between two body chunks")
    body_timeout_s: float = Field(default=120.0, gt=0, description="the whole body must arrive within this")
    keep_alive_s: float = Field(default=5.0, gt=0, description="an idle kept-alive connection is closed after this")
    max_connections: int = Field(default=256, gt=0, description="open connections per worker; more are closed")
    max_header_bytes: int = Field(default=16 * 1024, gt=0, description="request line and headers")

    # logs
    log_format: Literal["text", "json"] = "text"

    @field_validator("keys_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def resolved_engine_threads(self) -> int:
        return self.engine_threads or _cores()

    def engine_config(self) -> EngineConfig:
        return EngineConfig(
            device=self.device,
            device_id=self.device_id,
            intra_op_threads=self.intra_op_threads,
        )
