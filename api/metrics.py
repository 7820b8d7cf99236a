"""Prometheus metrics of one service instance (its own registry, so several apps can live in one test)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from engine.types import StageTiming

_LATENCY_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
_STAGE_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "hmtocr_requests",
            "Requests answered, by HTTP status and vendor error code ('' for success).",
            ["status", "error"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "hmtocr_request_seconds",
            "Time from first byte to response, by HTTP status.",
            ["status"],
            buckets=_LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.stage = Histogram(
            "hmtocr_engine_stage_seconds",
            "Engine time per pipeline stage (CardResult.timings).",
            ["stage"],
            buckets=_STAGE_BUCKETS_S,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "hmtocr_engine_in_flight", "Requests running or queued for the engine.", registry=self.registry
        )

    def observe_request(self, status: int, error: str, seconds: float) -> None:
        self.requests.labels(status=str(status), error=error).inc()
        self.latency.labels(status=str(status)).observe(seconds)

    def observe_stages(self, timings: tuple[StageTiming, ...]) -> None:
        for t in timings:
            self.stage.labels(stage=t.stage).observe(t.elapsed_ms / 1000.0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
