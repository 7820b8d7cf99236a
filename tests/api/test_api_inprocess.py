"""Paths a real engine cannot be made to take on demand, checked in-process with test doubles of the
engine protocol: an engine that crashes (500 leaks nothing) and a full engine queue."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import Service, create_app
from api.auth import build_sign
from api.settings import Settings
from engine.protocol import CardEngine
from engine.types import CardResult, RecognizeOptions

ENDPOINT = "/faceid/v5/ocr_residence_permit_card"


class CrashingEngine:
    name = "crashing"

    def recognize(self, image_bytes: bytes, options: RecognizeOptions) -> CardResult:
        raise RuntimeError("830000199706020042 张三")  # what a careless stage might put in a message


def run_with_client(
    tmp_path: Path,
    body: Callable[[httpx.AsyncClient, Service], Awaitable[httpx.Response]],
    *,
    engine: CardEngine | None = None,
    **settings_overrides: Any,
) -> httpx.Response:
    """Runs the app's lifespan around `body(client, service)`, all in this process."""
    fields: dict[str, Any] = {
        "api_keys": "k:s",
        "keys_file": None,
        "state_db": tmp_path / "state.sqlite3",
        "generated_keys_file": tmp_path / "keys.json",
        "engine_threads": 1,
        "queue_size": 0,
        **settings_overrides,
    }
    app = create_app(Settings(**fields), engine=engine or CrashingEngine())

    async def main() -> httpx.Response:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await body(client, app.state.service)

    return asyncio.run(main())


FILES = {"image": ("a.jpg", b"\xff\xd8x", "image/jpeg")}


def form() -> dict[str, str]:
    return {"sign": build_sign("k", "s"), "sign_version": "hmac_sha1"}


def test_internal_error_leaks_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        response = run_with_client(tmp_path, lambda client, _: client.post(ENDPOINT, data=form(), files=FILES))
    assert response.status_code == 500
    body = response.json()
    assert list(body) == ["request_id", "time_used", "error"] and body["error"] == "INTERNAL_ERROR"
    assert "RuntimeError" in caplog.text
    assert "830000199706020042" not in caplog.text + response.text and "张三" not in caplog.text


def test_full_engine_queue_answers_concurrency_limit(tmp_path: Path) -> None:
    async def body(client: httpx.AsyncClient, service: Service) -> httpx.Response:
        assert service.engine_slots.capacity == 1
        assert service.engine_slots.try_acquire()  # a request is running; no queue behind it
        try:
            return await client.post(ENDPOINT, data=form(), files=FILES)
        finally:
            service.engine_slots.release()

    response = run_with_client(tmp_path, body)
    assert response.status_code == 403 and response.json()["error"] == "CONCURRENCY_LIMIT_EXCEEDED"
