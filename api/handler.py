"""The endpoint `POST /faceid/v5/ocr_residence_permit_card`: form -> checks -> engine -> vendor JSON.

Order of checks (first failure answers):
 1. body over `max_body_bytes`, or not arriving in time (the edge)          -> 413 plain text / 400 BAD_ARGUMENTS
 2. form framing; `sign`, `sign_version` present and `hmac_sha1`           -> 400 BAD_ARGUMENTS / MISSING_ARGUMENTS
 3. sign digest (an unknown key fails here too), times, lifetime, replay   -> 403 AUTHENTICATION_ERROR
 4. key enabled                                                             -> 403 AUTHORIZATION_ERROR:DENIED.
 5. `image`, `return_portrait`, `exception_range`, `encryption_type`        -> 400 MISSING/BAD_ARGUMENTS
 6. encryption keys configured for the key, image decrypts                  -> 400 KEY_NOT_FOUND / BAD_ARGUMENTS
 7. image (decrypted) over `max_image_bytes`                                -> 413 plain text
 8. per-key concurrency, engine queue                                       -> 403 CONCURRENCY_LIMIT_EXCEEDED
 9. quota (the call is counted here, whatever the engine says next)         -> 403 AUTHORIZATION_ERROR:Limit reached.
10. engine errors                     -> 400 IMAGE_ERROR_UNSUPPORTED_FORMAT / INVALID_IMAGE_SIZE / ID_CARD_NOT_FOUND
A state database that cannot be written answers 500 INTERNAL_ERROR where a count or a single-use sign
must be recorded (one log line says why); keys without a quota are still served.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.datastructures import FormData, UploadFile
from starlette.requests import ClientDisconnect

from api import errors
from api.auth import SignError, SignParts, verify_sign
from api.crypto import CipherPair, CryptoError, decrypt_file, encrypt_response_fields
from api.edge import EdgeAbort
from api.errors import ApiError, VendorError
from api.form import parse_form
from api.keys import ApiKey
from api.limits import KeyConcurrency, Slots
from api.metrics import Metrics
from api.settings import Settings
from api.store import StateStore, StateUnavailable
from api.wire import card_result_to_wire, error_body
from engine.errors import EngineError
from engine.protocol import CardEngine
from engine.types import CardResult, ExceptionRange, RecognizeOptions

log = logging.getLogger(__name__)

_EXCEPTION_RANGE_KEYS = ("text_quality", "logic", "completeness", "face_detect")


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


def error_response(request: Request, err: VendorError) -> Response:
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


def _text(form: FormData, key: str) -> str | None:
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


async def _read_image(form: FormData, max_bytes: int) -> bytes:
    value = form.get("image")
    if value is None:
        raise errors.missing_arguments("image")
    if isinstance(value, str):  # an encrypted image may come as a text field (Base64)
        data = value.encode("utf-8")
    elif isinstance(value, UploadFile):
        data = await value.read(max_bytes + 1)
    else:  # pragma: no cover - the parser gives str or UploadFile
        raise errors.bad_arguments("image")
    if len(data) > max_bytes:
        raise errors.TOO_LARGE()
    return data


def _authenticate(service: Service, form: FormData, now_s: float) -> tuple[SignParts, ApiKey]:
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
            max_lifetime_s=settings.max_sign_lifetime_s,
            seen_single_use=lambda p: service.store.seen_sign(p.api_key, p.raw, p.current_s),
        )
    except SignError as exc:
        raise errors.AUTHENTICATION_ERROR() from exc
    key = service.keys[parts.api_key]
    if not key.enabled:
        raise errors.DENIED()
    return parts, key


async def handle(request: Request) -> Response:
    service: Service = request.app.state.service
    settings = service.settings
    form: FormData | None = None
    try:
        async with aclosing(request.stream()) as stream:
            form = await parse_form(request.headers, stream, max_bytes=settings.max_body_bytes)
        _, key = await asyncio.to_thread(_authenticate, service, form, time.time())
        request.state.api_key = key.api_key
        image = await _read_image(form, settings.max_body_bytes)
        return_portrait = _parse_flag(_text(form, "return_portrait"), "return_portrait")
        exception_range = parse_exception_range(_text(form, "exception_range"))
        encryption_type = _parse_encryption_type(_text(form, "encryption_type"))
        await form.close()
        form = None
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
        return error_response(request, err.vendor)
    except EdgeAbort:
        raise  # the edge answers (413, or a body that stopped coming)
    except StateUnavailable:  # logged once by the store
        return error_response(request, errors.INTERNAL_ERROR)
    except ClientDisconnect:
        request.state.error_code = "CLIENT_DISCONNECT"
        return Response(status_code=499)
    except Exception as exc:  # nothing about it reaches the client
        log_internal(request, exc)
        return error_response(request, errors.INTERNAL_ERROR)
    finally:
        if form is not None:
            await form.close()


def log_internal(request: Request, exc: BaseException) -> None:
    # The exception's message may quote what was read from a card: log its type and where it came
    # from, never its text.
    frames = " <- ".join(
        f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in reversed(traceback.extract_tb(exc.__traceback__))
    )
    log.error("request_id=%s internal error %s at %s", request.state.request_id, type(exc).__name__, frames or "-")


async def _count_call(service: Service, key: ApiKey) -> None:
    try:
        counted = await asyncio.to_thread(service.store.try_consume, key.api_key, key.quota)
    except StateUnavailable:
        if key.quota is not None:
            raise  # a quota we cannot count is a quota we cannot enforce
        return  # no quota to enforce: serve, uncounted (the store logged it once)
    if not counted:
        raise errors.LIMIT_REACHED()


async def _recognize(service: Service, key: ApiKey, image: bytes, options: RecognizeOptions) -> CardResult:
    key_slots = service.key_slots.slots(key.api_key, key.concurrency)
    if not key_slots.try_acquire():
        raise errors.CONCURRENCY_LIMIT_EXCEEDED()
    try:
        if not service.engine_slots.try_acquire():
            raise errors.CONCURRENCY_LIMIT_EXCEEDED()
        service.metrics.in_flight.inc()
        try:
            await _count_call(service, key)
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
