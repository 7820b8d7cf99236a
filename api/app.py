"""The vendor-compatible HTTP service: `POST /faceid/v5/ocr_residence_permit_card`.

Run it with `hmtocr serve` (or `python -m uvicorn --factory api.app:create_app`). One engine is built
at start-up and shared by a thread pool sized to the cores; a bounded queue in front of it refuses
work it cannot take (403 CONCURRENCY_LIMIT_EXCEEDED). Every answer is the vendor's: FastAPI's own
422 / 404 / 405 never reach a client.

Order of checks for the endpoint (first failure answers):
 1. body over `max_body_bytes` (Content-Length, or counted while streaming)  -> 413 plain text
 2. form parse; `sign`, `sign_version` present and `hmac_sha1`              -> 400 MISSING/BAD_ARGUMENTS
 3. sign digest, times, single-use replay                                   -> 403 AUTHENTICATION_ERROR
 4. key known and enabled                                                   -> 403 AUTHORIZATION_ERROR:DENIED.
 5. `image`, `return_portrait`, `exception_range`, `encryption_type`        -> 400 MISSING/BAD_ARGUMENTS
 6. encryption keys configured for the key, image decrypts                  -> 400 KEY_NOT_FOUND / BAD_ARGUMENTS
 7. image (decrypted) over `max_image_bytes`                                -> 413 plain text
 8. per-key concurrency, engine queue                                       -> 403 CONCURRENCY_LIMIT_EXCEEDED
 9. quota (the call is counted here, whatever the engine says next)         -> 403 AUTHORIZATION_ERROR:Limit reached.
10. engine errors                     -> 400 IMAGE_ERROR_UNSUPPORTED_FORMAT / INVALID_IMAGE_SIZE / ID_CARD_NOT_FOUND
Any other method or path -> 404 API_NOT_FOUND (a GET on the endpoint too, with `Allow: POST`:
the vendor documents no 405, and for a client "no such API for this method" is what happened).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors
from api.auth import SignError, SignParts, UnknownKeyError, verify_sign
from api.crypto import CipherPair, CryptoError, decrypt_file, encrypt_response_fields, load_pair
from api.docs_assets import install_offline_docs
from api.errors import ApiError, VendorError
from api.keys import ApiKey
from api.limits import KeyConcurrency, Slots
from api.metrics import Metrics
from api.settings import Settings
from api.store import StateStore
from api.wire import card_result_to_wire, error_body
from engine.errors import EngineError
from engine.factory import build_engine
from engine.protocol import CardEngine
from engine.types import CardResult, ExceptionRange, RecognizeOptions

ENDPOINT = "/faceid/v5/ocr_residence_permit_card"
log = logging.getLogger(__name__)
access_log = logging.getLogger("api.access")

_EXCEPTION_RANGE_KEYS = ("text_quality", "logic", "completeness", "face_detect")


class BodyTooLarge(Exception):
    """The request body passed `max_body_bytes` while streaming."""


def new_request_id(now_s: float | None = None) -> str:
    return f"{int(time.time() if now_s is None else now_s)},{uuid.uuid4()}"


@dataclass
class Service:
    """Everything built once at start-up and shared by all requests of this worker process."""

    settings: Settings
    engine: CardEngine
    executor: ThreadPoolExecutor
    store: StateStore
    keys: dict[str, ApiKey]
    ciphers: dict[tuple[str, int], CipherPair]
    metrics: Metrics
    engine_slots: Slots
    key_slots: KeyConcurrency = field(default_factory=KeyConcurrency)

    def secret_for(self, api_key: str) -> str | None:
        key = self.keys.get(api_key)
        return key.api_secret if key is not None else None


# ---------------------------------------------------------------------------------------------------
# ASGI middleware: body limit, one log line and metrics per request


class Edge:
    """Pure ASGI: refuses oversized bodies (Content-Length or counted while streaming, never buffered),
    stamps the start time and request id, logs one line per request and records metrics."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, metrics: Metrics) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        state["started"] = started
        state["request_id"] = new_request_id()
        status_box = [0]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
            await send(message)

        length = _content_length(scope)
        if length is not None and length > self.max_body_bytes:
            state["error_code"] = "REQUEST_ENTITY_TOO_LARGE"
            await _send_too_large(send_wrapper)
        else:
            received = 0

            async def receive_wrapper() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > self.max_body_bytes:
                        raise BodyTooLarge
                return message

            try:
                await self.app(scope, receive_wrapper, send_wrapper)
            except BodyTooLarge:
                state["error_code"] = "REQUEST_ENTITY_TOO_LARGE"
                if status_box[0] == 0:
                    await _send_too_large(send_wrapper)
        elapsed_s = time.perf_counter() - started
        self._record(scope, state, status_box[0], elapsed_s)

    def _record(self, scope: Scope, state: MutableMapping[str, Any], status: int, elapsed_s: float) -> None:
        path = scope.get("path", "")
        error = str(state.get("error_code", ""))
        if path == ENDPOINT or error:
            self.metrics.observe_request(status, error, elapsed_s)
        timings = state.get("timings") or ()
        stages = ",".join(f"{t.stage}:{t.elapsed_ms:.1f}" for t in timings)
        level = logging.DEBUG if path in ("/healthz", "/metrics") else logging.INFO
        # Never a name, number, address or image byte: ids, codes and timings only.
        access_log.log(
            level,
            "request_id=%s method=%s path=%s status=%d error=%s time_ms=%d key=%s stages=%s",
            state.get("request_id", "-"),
            scope.get("method", "-"),
            path if path in (ENDPOINT, "/healthz", "/metrics", "/docs", "/openapi.json") else "<other>",
            status,
            error or "-",
            round(elapsed_s * 1000),
            state.get("api_key", "-"),
            stages or "-",
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_too_large(send: Send) -> None:
    body = errors.TOO_LARGE_TEXT.encode("ascii")
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# ---------------------------------------------------------------------------------------------------
# Building the service


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
        if not logging.getLogger().handlers:  # a worker process started by uvicorn --workers
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        keys, generated = resolve_keys(settings)
        if generated:
            log.warning("no API keys configured: using the generated key file %s", generated)
        ciphers = _load_ciphers(keys)
        threads = settings.resolved_engine_threads
        built: CardEngine = (
            engine
            if engine is not None
            else await asyncio.to_thread(build_engine, settings.engine, settings.engine_config())
        )
        store = StateStore(settings.state_db)
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
        docs_url=None,  # api/docs_assets.py serves /docs and /redoc with no CDN
        redoc_url=None,
    )

    @app.exception_handler(StarletteHTTPException)
    async def http_exception(request: Request, exc: StarletteHTTPException) -> Response:
        # Unknown paths (404) and wrong methods (405): the vendor's API_NOT_FOUND, no request_id.
        err = errors.API_NOT_FOUND if exc.status_code in (404, 405) else errors.INTERNAL_ERROR
        response = _error_response(request, err)
        if exc.status_code == 405 and request.url.path == ENDPOINT:
            response.headers["Allow"] = "POST"
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        _log_internal(request, exc)
        return _error_response(request, errors.INTERNAL_ERROR)

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
        openapi_extra=_OPENAPI_REQUEST,
        responses=_OPENAPI_RESPONSES,
        response_class=JSONResponse,
    )
    async def ocr_residence_permit_card(request: Request) -> Response:
        return await _handle(request)

    install_openapi_components(app)
    install_offline_docs(app)
    app.add_middleware(Edge, max_body_bytes=settings.max_body_bytes, metrics=metrics)
    return app


# ---------------------------------------------------------------------------------------------------
# The endpoint


def _error_response(request: Request, err: VendorError) -> Response:
    state = request.state
    state.error_code = err.code
    if err.is_plain_text:
        return PlainTextResponse(errors.TOO_LARGE_TEXT, status_code=err.status)
    request_id = state.request_id if err.carries_request_id else None
    return JSONResponse(
        error_body(err.error, request_id=request_id, time_used_ms=_time_used_ms(request)), status_code=err.status
    )


def _time_used_ms(request: Request) -> int:
    return round((time.perf_counter() - float(request.state.started)) * 1000)


def _text(form: Any, key: str) -> str | None:
    value = form.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise errors.bad_arguments(key)
    return value


def _parse_flag(value: str | None, key: str) -> bool:
    if value is None or value == "0":
        return False
    if value == "1":
        return True
    raise errors.bad_arguments(key)


def parse_exception_range(value: str | None) -> ExceptionRange:
    """The vendor's `exception_range` JSON object; unknown keys are ignored, values must be booleans."""
    if value is None or not value.strip():
        return ExceptionRange()
    try:
        data = json.loads(value)
    except (ValueError, RecursionError) as exc:
        raise errors.bad_arguments("exception_range") from exc
    if not isinstance(data, dict):
        raise errors.bad_arguments("exception_range")
    chosen: dict[str, bool] = {}
    for key in _EXCEPTION_RANGE_KEYS:
        if key in data:
            if not isinstance(data[key], bool):
                raise errors.bad_arguments("exception_range")
            chosen[key] = data[key]
    return ExceptionRange(**chosen)


def _parse_encryption_type(value: str | None) -> int:
    if value is None or value == "0":
        return 0
    if value in ("1", "2"):
        return int(value)
    raise errors.bad_arguments("encryption_type")


async def _read_image(form: Any, max_bytes: int) -> bytes:
    value = form.get("image")
    if value is None:
        raise errors.missing_arguments("image")
    if isinstance(value, str):  # an encrypted image may come as a text field (Base64)
        data = value.encode("utf-8")
    elif isinstance(value, UploadFile):
        data = await value.read(max_bytes + 1)
    else:  # pragma: no cover - Starlette gives str or UploadFile
        raise errors.bad_arguments("image")
    if len(data) > max_bytes:
        raise errors.TOO_LARGE()
    return data


def _authenticate(service: Service, form: Any, now_s: float) -> tuple[SignParts, ApiKey]:
    sign = _text(form, "sign")
    if sign is None or not sign.strip():
        raise errors.missing_arguments("sign")
    sign_version = _text(form, "sign_version")
    if sign_version is None or not sign_version.strip():
        raise errors.missing_arguments("sign_version")
    if sign_version.strip() != "hmac_sha1":
        raise errors.bad_arguments("sign_version")
    settings = service.settings
    try:
        parts = verify_sign(
            sign,
            service.secret_for,
            now_s=now_s,
            clock_skew_s=settings.clock_skew_s,
            single_use_max_age_s=settings.single_use_max_age_s,
            seen_single_use=lambda p: service.store.seen_sign(p.api_key, p.raw, p.current_s),
        )
    except UnknownKeyError as exc:
        raise errors.DENIED() from exc
    except SignError as exc:
        raise errors.AUTHENTICATION_ERROR() from exc
    key = service.keys[parts.api_key]
    if not key.enabled:
        raise errors.DENIED()
    return parts, key


async def _handle(request: Request) -> Response:
    service: Service = request.app.state.service
    settings = service.settings
    try:
        async with request.form(max_files=4, max_fields=32, max_part_size=settings.max_body_bytes) as form:
            _, key = await asyncio.to_thread(_authenticate, service, form, time.time())
            request.state.api_key = key.api_key
            image = await _read_image(form, settings.max_body_bytes)
            return_portrait = _parse_flag(_text(form, "return_portrait"), "return_portrait")
            exception_range = parse_exception_range(_text(form, "exception_range"))
            encryption_type = _parse_encryption_type(_text(form, "encryption_type"))
        cipher = None
        if encryption_type:
            cipher = service.ciphers.get((key.api_key, encryption_type))
            if cipher is None:
                raise errors.KEY_NOT_FOUND()
            try:
                image = await asyncio.to_thread(decrypt_file, image, cipher.decrypt)
            except CryptoError as exc:
                raise errors.bad_arguments("image") from exc
        if len(image) > settings.max_image_bytes:
            raise errors.TOO_LARGE()
        if not image:
            raise errors.UNSUPPORTED_FORMAT()
        options = RecognizeOptions(return_portrait=return_portrait, exception_range=exception_range)
        result = await _recognize(service, key, image, options)
        request.state.timings = result.timings
        service.metrics.observe_stages(result.timings)
        body = card_result_to_wire(
            result,
            request_id=request.state.request_id,
            time_used_ms=_time_used_ms(request),
            return_portrait=return_portrait,
        )
        if cipher is not None:
            body = await asyncio.to_thread(encrypt_response_fields, body, cipher.encrypt)
            body["time_used"] = _time_used_ms(request)
        return JSONResponse(body)
    except ApiError as err:
        return _error_response(request, err.vendor)
    except BodyTooLarge:
        raise  # the edge answers 413
    except StarletteHTTPException as exc:  # the form parser's limits (too many parts, bad framing)
        log.info("request_id=%s form rejected: %s", request.state.request_id, exc.status_code)
        return _error_response(request, errors.bad_arguments("image").vendor)
    except ClientDisconnect:
        request.state.error_code = "CLIENT_DISCONNECT"
        return Response(status_code=499)
    except Exception as exc:  # nothing about it reaches the client
        _log_internal(request, exc)
        return _error_response(request, errors.INTERNAL_ERROR)


def _log_internal(request: Request, exc: BaseException) -> None:
    # The exception's message may quote what was read from a card: log its type and where it came
    # from, never its text.
    frames = " <- ".join(
        f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in reversed(traceback.extract_tb(exc.__traceback__))
    )
    log.error("request_id=%s internal error %s at %s", request.state.request_id, type(exc).__name__, frames or "-")


async def _recognize(service: Service, key: ApiKey, image: bytes, options: RecognizeOptions) -> CardResult:
    key_slots = service.key_slots.slots(key.api_key, key.concurrency)
    if not key_slots.try_acquire():
        raise errors.CONCURRENCY_LIMIT_EXCEEDED()
    try:
        if not service.engine_slots.try_acquire():
            raise errors.CONCURRENCY_LIMIT_EXCEEDED()
        service.metrics.in_flight.inc()
        try:
            if not await asyncio.to_thread(service.store.try_consume, key.api_key, key.quota):
                raise errors.LIMIT_REACHED()
            loop = asyncio.get_running_loop()
            try:
                return await loop.run_in_executor(service.executor, service.engine.recognize, image, options)
            except EngineError as exc:  # anything else is a bug: logged and answered INTERNAL_ERROR
                raise errors.from_exception(exc)() from exc
        finally:
            service.metrics.in_flight.dec()
            service.engine_slots.release()
    finally:
        key_slots.release()


# ---------------------------------------------------------------------------------------------------
# OpenAPI: the form is parsed by hand (vendor errors instead of 422), so describe it here.

_FIELD_SCHEMA = {
    "type": "object",
    "properties": {
        "quality": {"type": "number", "description": "0..1, 3 decimals; below 0.15 is a quality problem"},
        "result": {"type": "string", "description": "the text ('' when not read); Base64 ciphertext if encrypted"},
        "rect": {"$ref": "#/components/schemas/Rect"},
        "logic": {"type": "integer", "enum": [0, 1]},
    },
}
_OPENAPI_REQUEST: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["sign", "sign_version", "image"],
                    "properties": {
                        "sign": {
                            "type": "string",
                            "description": "Base64(HMAC_SHA1(secret, raw) || raw), "
                            "raw = a=<api_key>&b=<expire>&c=<now>&d=<random>; see docs/CLIENT.md",
                        },
                        "sign_version": {"type": "string", "enum": ["hmac_sha1"]},
                        "image": {
                            "type": "string",
                            "format": "binary",
                            "description": "< 10 MB, 200..8000 px; with encryption the framed Base64 text",
                        },
                        "return_portrait": {"type": "string", "enum": ["0", "1"], "default": "0"},
                        "exception_range": {
                            "type": "string",
                            "description": 'JSON object: {"text_quality": true, "logic": true, '
                            '"completeness": false, "face_detect": false} (defaults shown)',
                        },
                        "encryption_type": {
                            "type": "string",
                            "enum": ["0", "1", "2"],
                            "default": "0",
                            "description": "0 none, 1 SM2, 2 RSA (OAEP-SHA256)",
                        },
                    },
                }
            }
        },
    }
}
_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "request_id": {"type": "string"},
        "time_used": {"type": "integer"},
        "error": {"type": "string"},
    },
}
_OPENAPI_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A card was found: `result` 1001 or 1002, `side` 0 (front) or 1 (back), one object per "
        "field of that side (front: name gender birth_year birth_month birth_day idcard_number address "
        "[portrait]; back: issued_by valid_date_start valid_date_end eep_number epp_number hmt_issue_count), "
        "`completeness`, `card_rect`.",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "request_id": {"type": "string", "example": "1526629075,8dcd4722-9f2b-42ca-a2c3-bae3a061b20f"},
                        "time_used": {"type": "integer"},
                        "result": {"type": "integer", "enum": [1001, 1002]},
                        "side": {"type": "integer", "enum": [0, 1]},
                        "name": _FIELD_SCHEMA,
                        "completeness": {"type": "integer", "enum": [0, 1, 2]},
                        "card_rect": {"$ref": "#/components/schemas/Rect"},
                    },
                    "additionalProperties": _FIELD_SCHEMA,
                }
            }
        },
    },
    400: {
        "description": "MISSING_ARGUMENTS: <key> | BAD_ARGUMENTS: <key> | INVALID_IMAGE_SIZE: image | "
        "IMAGE_ERROR_UNSUPPORTED_FORMAT: image | ID_CARD_NOT_FOUND | KEY_NOT_FOUND",
        "content": {"application/json": {"schema": _ERROR_SCHEMA}},
    },
    403: {
        "description": "AUTHENTICATION_ERROR | AUTHORIZATION_ERROR:DENIED. | AUTHORIZATION_ERROR:Limit reached. "
        "(no request_id) | CONCURRENCY_LIMIT_EXCEEDED",
        "content": {"application/json": {"schema": _ERROR_SCHEMA}},
    },
    404: {"description": "API_NOT_FOUND (no request_id)", "content": {"application/json": {"schema": _ERROR_SCHEMA}}},
    413: {
        "description": "Request Entity Too Large (plain text): body or image over 10 MB",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    500: {"description": "INTERNAL_ERROR", "content": {"application/json": {"schema": _ERROR_SCHEMA}}},
}


def _rect_schema() -> dict[str, Any]:
    point = {"type": "object", "properties": {"y": {"type": "integer"}, "x": {"type": "integer"}}}
    return {"type": "object", "properties": {c: point for c in ("rt", "lt", "lb", "rb")}}


def install_openapi_components(app: FastAPI) -> None:
    original: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {})["Rect"] = _rect_schema()
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
