"""Engine adapters for the benchmarks: every way of asking an engine gives a `scoring.Prediction`.

- `InProcessRunner`: `api.engines.build_engine(name)`, its `CardResult` passed through the same
  wire mapping the service uses (`api.wire.card_result_to_wire` then `parse_wire_response`), so an
  in-process score is the score the service would get.
- `HttpRunner`: any server speaking the vendor protocol (our service, the baseline behind it, or the
  vendor itself), signed with the vendor's HMAC-SHA1 scheme. The answer goes through
  `api.wire.parse_wire_response`; anything it refuses, a non-JSON body, an HTTP 5xx, a transport
  error or an unexpected error string is a *failure*, never a crash of the benchmark.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from benchmarks.scoring import ANSWER_ERRORS, PredictedField, Prediction
from engine.config import EngineConfig
from engine.types import CardResult, RecognizeOptions

ENDPOINT_PATH = "/faceid/v5/ocr_residence_permit_card"


class Runner(Protocol):
    @property
    def name(self) -> str: ...

    def predict(self, image_bytes: bytes) -> Prediction: ...

    def close(self) -> None: ...


def prediction_from_card(card: CardResult, latency_ms: float) -> Prediction:
    portrait = card.portrait
    return Prediction(
        latency_ms=latency_ms,
        side=int(card.side),
        fields={f.name: PredictedField(f.text, f.quality, f.logic) for f in card.fields},
        card_quad_xy=card.card_quad_xy,
        completeness=card.completeness,
        result_code=int(card.result_code),
        # the photo area comes back on every front when asked: what is judged is whether a face was found
        portrait_returned=portrait is not None and portrait.face_found,
    )


def prediction_from_wire(body: Any, latency_ms: float) -> Prediction:
    """A decoded JSON body -> Prediction; junk becomes a failure, unexpected errors too."""
    from api.wire import parse_wire_response

    try:
        wire = parse_wire_response(body)
    except Exception as exc:  # any refusal of the body, whatever its type, is a junk answer
        return Prediction(latency_ms=latency_ms, failure=f"junk: {type(exc).__name__}: {exc}"[:200])
    if wire.error is not None:
        code = wire.error.split(":", 1)[0].strip()
        if code in ANSWER_ERRORS:
            return Prediction(latency_ms=latency_ms, error=code)
        return Prediction(latency_ms=latency_ms, failure=f"error: {wire.error}"[:200])
    if wire.card is None:
        return Prediction(latency_ms=latency_ms, failure="junk: neither card nor error")
    return prediction_from_card(wire.card, latency_ms)


def prediction_from_http(status: int, content: bytes, latency_ms: float) -> Prediction:
    """An HTTP answer (status, raw body) -> Prediction. Never raises."""
    if status >= 500:
        return Prediction(latency_ms=latency_ms, failure=f"http: status {status}")
    try:
        body = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return Prediction(latency_ms=latency_ms, failure=f"junk: non-JSON body (HTTP {status})")
    prediction = prediction_from_wire(body, latency_ms)
    if status != 200 and prediction.answered_card:
        return Prediction(latency_ms=latency_ms, failure=f"http: a card with status {status}")
    return prediction


class InProcessRunner:
    """An engine built by name in this process; thread-safe like the engine it wraps."""

    def __init__(self, engine_name: str, config: EngineConfig | None = None) -> None:
        from api.engines import build_engine

        self._engine = build_engine(engine_name, config or EngineConfig())
        self._name = engine_name
        self._options = RecognizeOptions(return_portrait=True)

    @property
    def name(self) -> str:
        return self._name

    @property
    def engine(self) -> Any:
        return self._engine

    def predict(self, image_bytes: bytes) -> Prediction:
        from api.errors import from_exception
        from api.wire import card_result_to_wire
        from engine.errors import EngineError

        t0 = time.perf_counter()
        try:
            card = self._engine.recognize(image_bytes, self._options)
        except EngineError as exc:
            latency = (time.perf_counter() - t0) * 1000.0
            code = from_exception(exc).code
            return Prediction(latency_ms=latency, error=code)
        except Exception as exc:  # a crash is a figure of the benchmark, not its end
            latency = (time.perf_counter() - t0) * 1000.0
            return Prediction(latency_ms=latency, failure=f"crash: {type(exc).__name__}: {exc}"[:200])
        latency = (time.perf_counter() - t0) * 1000.0
        try:
            body = card_result_to_wire(
                card, request_id=f"{int(time.time())},{uuid.uuid4()}", time_used_ms=int(latency),
                return_portrait=True,
            )
        except Exception as exc:
            return Prediction(latency_ms=latency, failure=f"crash: wire mapping: {type(exc).__name__}: {exc}"[:200])
        return prediction_from_wire(body, latency)

    def close(self) -> None:
        return None


def endpoint_url(url: str) -> str:
    """A base URL gets the vendor's path; a URL with a path is used as given (as `api.client` does)."""
    from api.client import endpoint_url as client_endpoint_url

    return client_endpoint_url(url)


class HttpRunner:
    """Any server speaking the wire protocol; one pooled `httpx.Client`, safe across threads.

    Signing and the form come from `api.client.OcrClient`; the post is made here so that the raw
    status and body reach `prediction_from_http` whatever they are.
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        api_secret: str,
        *,
        name: str | None = None,
        timeout_s: float = 60.0,
        extra_form: Mapping[str, str] | None = None,
    ) -> None:
        import httpx

        from api.client import OcrClient

        self._name = name or f"http:{url}"
        self._extra = dict(extra_form or {})
        self._client = httpx.Client(timeout=timeout_s, limits=httpx.Limits(max_connections=64))
        self._ocr_client = OcrClient(url, api_key, api_secret, http=self._client)
        self._url = self._ocr_client.url

    @property
    def name(self) -> str:
        return self._name

    def post(self, image_bytes: bytes) -> tuple[int, bytes]:
        form = {**self._ocr_client.form(return_portrait=True), **self._extra}
        response = self._client.post(
            self._url,
            data=form,
            files={"image": ("image.jpg", image_bytes, "image/jpeg")},
        )
        return response.status_code, response.content

    def predict(self, image_bytes: bytes) -> Prediction:
        t0 = time.perf_counter()
        try:
            status, content = self.post(image_bytes)
        except Exception as exc:  # transport errors, timeouts: a failure of this request
            latency = (time.perf_counter() - t0) * 1000.0
            return Prediction(latency_ms=latency, failure=f"transport: {type(exc).__name__}: {exc}"[:200])
        latency = (time.perf_counter() - t0) * 1000.0
        return prediction_from_http(status, content, latency)

    def close(self) -> None:
        self._client.close()
