"""The one place that maps engine errors and API errors to an HTTP status and the vendor's error string.

The vendor's table (ocr_residence_permit_card page, 错误信息):

    400 MISSING_ARGUMENTS: <key> | BAD_ARGUMENTS: <key> | KEY_NOT_FOUND
    400 ID_CARD_NOT_FOUND | INVALID_IMAGE_SIZE: image | IMAGE_ERROR_UNSUPPORTED_FORMAT: image
    403 AUTHENTICATION_ERROR | AUTHORIZATION_ERROR:<reason> | CONCURRENCY_LIMIT_EXCEEDED
    404 API_NOT_FOUND
    413 Request Entity Too Large   (plain text, not JSON)
    500 INTERNAL_ERROR

`request_id` is in every JSON error body except 404 API_NOT_FOUND and 403 AUTHORIZATION_ERROR.
"""

from __future__ import annotations

from engine.errors import CardNotFoundError, EngineError, ImageSizeError, UnsupportedImageError

TOO_LARGE_TEXT = "Request Entity Too Large"


class ApiError(Exception):
    """An error answered to the client: HTTP status and the vendor's exact error string."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(status, error)
        self.status = status
        self.error = error

    def __str__(self) -> str:
        return f"{self.status} {self.error}"

    @property
    def code(self) -> str:
        """The error code without its argument, for logs and metric labels (`BAD_ARGUMENTS`)."""
        return self.error.split(":", 1)[0].strip()

    @property
    def carries_request_id(self) -> bool:
        return self.code not in ("API_NOT_FOUND", "AUTHORIZATION_ERROR")

    @property
    def is_plain_text(self) -> bool:
        return self.status == 413


def missing_arguments(key: str) -> ApiError:
    return ApiError(400, f"MISSING_ARGUMENTS: {key}")


def bad_arguments(key: str) -> ApiError:
    return ApiError(400, f"BAD_ARGUMENTS: {key}")


INVALID_IMAGE_SIZE = ApiError(400, "INVALID_IMAGE_SIZE: image")
UNSUPPORTED_FORMAT = ApiError(400, "IMAGE_ERROR_UNSUPPORTED_FORMAT: image")
ID_CARD_NOT_FOUND = ApiError(400, "ID_CARD_NOT_FOUND")
KEY_NOT_FOUND = ApiError(400, "KEY_NOT_FOUND")
AUTHENTICATION_ERROR = ApiError(403, "AUTHENTICATION_ERROR")
DENIED = ApiError(403, "AUTHORIZATION_ERROR:DENIED.")
LIMIT_REACHED = ApiError(403, "AUTHORIZATION_ERROR:Limit reached.")
CONCURRENCY_LIMIT_EXCEEDED = ApiError(403, "CONCURRENCY_LIMIT_EXCEEDED")
API_NOT_FOUND = ApiError(404, "API_NOT_FOUND")
TOO_LARGE = ApiError(413, TOO_LARGE_TEXT)
INTERNAL_ERROR = ApiError(500, "INTERNAL_ERROR")

_ENGINE_ERRORS: tuple[tuple[type[EngineError], ApiError], ...] = (
    (UnsupportedImageError, UNSUPPORTED_FORMAT),
    (ImageSizeError, INVALID_IMAGE_SIZE),
    (CardNotFoundError, ID_CARD_NOT_FOUND),
)


def from_exception(exc: BaseException) -> ApiError:
    """The vendor error for any exception; anything unexpected is INTERNAL_ERROR (nothing leaks)."""
    if isinstance(exc, ApiError):
        return exc
    for cls, api_error in _ENGINE_ERRORS:
        if isinstance(exc, cls):
            return api_error
    return INTERNAL_ERROR
