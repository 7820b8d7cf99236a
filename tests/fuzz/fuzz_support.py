"""Shared by the fuzzing suite: Hypothesis settings sized to keep the whole suite under 3 minutes,
deterministic (derandomised, no example database written), and the vendor's error grammar."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, settings

# Every error string the vendor's table allows (api/errors.py), and nothing else.
VENDOR_ERROR = re.compile(
    r"(MISSING_ARGUMENTS: \w+|BAD_ARGUMENTS(: \w+)?|KEY_NOT_FOUND|ID_CARD_NOT_FOUND|INVALID_IMAGE_SIZE: image"
    r"|IMAGE_ERROR_UNSUPPORTED_FORMAT: image|AUTHENTICATION_ERROR|AUTHORIZATION_ERROR:(DENIED\.|Limit reached\.)"
    r"|CONCURRENCY_LIMIT_EXCEEDED|API_NOT_FOUND|INTERNAL_ERROR)"
)


def bounded(max_examples: int, deadline_ms: int | None = 2000) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=deadline_ms,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
