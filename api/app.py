"""The vendor-compatible HTTP service: `POST /faceid/v5/ocr_residence_permit_card`, composed here.

Run it with `hmtocr serve` (which also sets the connection limits: api/protocol.py), or
`python -m uvicorn --factory api.app:create_app`. One engine is built at start-up and shared by a
thread pool sized to the cores; a bounded queue in front of it refuses work it cannot take (403
CONCURRENCY_LIMIT_EXCEEDED). The parts: api/edge.py (ids, body limits and timeouts, the access log),
api/handler.py (the endpoint and its order of checks), api/openapi.py. Every answer is the vendor's:
FastAPI's own 422 / 404 / 405 / 307 never reach a client. Any other method or path -> 404
API_NOT_FOUND (a GET on the endpoint too, with `Allow: POST`: the vendor documents no 405, and for a
client "no such API for this method" is what happened); so does a trailing slash (no redirect).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import errors
from api.crypto import CipherPair, CryptoError, load_pair
from api.docs_assets import install_offline_docs
from api.edge import ENDPOINT, Edge
from api.engines import build_engine
from api.handler import Service, error_response, handle, log_internal, parse_exception_range
from api.keys import ApiKey
from api.limits import Slots
from api.logs import configure_logging
from api.metrics import Metrics
from api.openapi import OPENAPI_REQUEST, OPENAPI_RESPONSES, install_openapi_components
from api.settings import Settings
from api.store import StateStore
from engine.protocol import CardEngine

__all__ = ["ENDPOINT", "Service", "create_app", "parse_exception_range", "resolve_keys"]
log = logging.getLogger(__name__)


def _load_ciphers(keys: dict[str, ApiKey]) -> dict[tuple[str, int], CipherPair]:
    ciphers: dict[tuple[str, int], CipherPair] = {}
    for key in keys.values():
        for encryption_type, paths in ((1, key.sm2), (2, key.rsa)):
            if paths.server_private_key is not None and paths.client_public_key is not None:
                try:
                    ciphers[(key.api_key, encryption_type)] = load_pair(
                        encryption_type, paths.server_private_key, paths.client_public_key
                    )
                except CryptoError as exc:
                    raise RuntimeError(f"api_key {key.api_key}: encryption keys: {exc}") from exc
    return ciphers


def resolve_keys(settings: Settings) -> tuple[dict[str, ApiKey], str | None]:
    """The configured keys, or the generated file's (created if needed). Second item: that file."""
    from api.keys import ensure_generated_keys, load_keys

    keys = load_keys(settings.api_keys, settings.keys_file)
    if keys:
        return keys, None
    path, keys, _ = ensure_generated_keys(settings.generated_keys_file)
    return keys, str(path)


def create_app(settings: Settings | None = None, *, engine: CardEngine | None = None) -> FastAPI:
    """The ASGI app. Settings come from `HMTOCR_*` when not given; the engine is built at start-up."""
    settings = settings or Settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_format)  # a no-op where `hmtocr serve` set it up already
        keys, generated = resolve_keys(settings)
        if generated:
            log.warning("no API keys configured: using the generated key file %s", generated)
        ciphers = _load_ciphers(keys)
        store = StateStore(settings.state_db)  # before the engine: a bad state folder fails at once
        threads = settings.resolved_engine_threads
        built: CardEngine = (
            engine
            if engine is not None
            else await asyncio.to_thread(build_engine, settings.engine, settings.engine_config())
        )
        store.prune_signs(settings.single_use_max_age_s + settings.clock_skew_s)
        executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="engine")
        app.state.service = Service(
            settings=settings,
            engine=built,
            executor=executor,
            store=store,
            keys=keys,
            ciphers=ciphers,
            metrics=metrics,
            engine_slots=Slots(threads + settings.queue_size),
        )
        log.info(
            "engine %s ready: %d threads, queue %d, %d api keys", built.name, threads, settings.queue_size, len(keys)
        )
        try:
            yield
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
            store.close()
            close = getattr(built, "close", None)
            if engine is None and callable(close):  # we built it, we release its sessions
                close()

    app = FastAPI(
        title="hmt-ocr",
        version="0.1.0",
        description="Self-hosted OCR for the PRC Residence Permit for Hong Kong, Macao and Taiwan Residents, "
        "wire-compatible with the vendor's `/faceid/v5/ocr_residence_permit_card`.",
        lifespan=lifespan,
        redirect_slashes=False,  # a redirect would carry a Location built from the client's Host header
        docs_url=None,  # api/docs_assets.py serves /docs and /redoc with no CDN
        redoc_url=None,
    )

    @app.exception_handler(StarletteHTTPException)
    async def http_exception(request: Request, exc: StarletteHTTPException) -> Response:
        # Unknown paths (404) and wrong methods (405): the vendor's API_NOT_FOUND, no request_id.
        err = errors.API_NOT_FOUND if exc.status_code in (404, 405) else errors.INTERNAL_ERROR
        response = error_response(request, err)
        if exc.status_code == 405 and request.url.path == ENDPOINT:
            response.headers["Allow"] = "POST"
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log_internal(request, exc)
        return error_response(request, errors.INTERNAL_ERROR)

    @app.get("/healthz", summary="Liveness and readiness", tags=["operations"])
    async def healthz(request: Request) -> dict[str, Any]:
        service: Service = request.app.state.service
        return {"status": "ok", "engine": service.engine.name}

    @app.get("/metrics", summary="Prometheus metrics", tags=["operations"], response_class=PlainTextResponse)
    async def metrics_endpoint() -> Response:
        return Response(metrics.render(), media_type=metrics.content_type)

    @app.post(
        ENDPOINT,
        summary="Recognise one residence permit photo (front or back)",
        tags=["ocr"],
        openapi_extra=OPENAPI_REQUEST,
        responses=OPENAPI_RESPONSES,
        response_class=JSONResponse,
    )
    async def ocr_residence_permit_card(request: Request) -> Response:
        return await handle(request)

    install_openapi_components(app)
    install_offline_docs(app)
    app.add_middleware(
        Edge,
        max_body_bytes=settings.max_body_bytes,
        body_idle_timeout_s=settings.body_idle_timeout_s,
        body_timeout_s=settings.body_timeout_s,
        metrics=metrics,
    )
    return app
