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

from dataclasses import dataclass

from engine.errors import CardNotFoundError, EngineError, ImageSizeError, UnsupportedImageError

TOO_LARGE_TEXT = "Request Entity Too Large"


@dataclass(frozen=True, slots=True)
class VendorError:
    """One row of the vendor's table: HTTP status and exact error string.

    A value, not an exception: calling it gives a fresh `ApiError` to raise. A shared exception object
    raised again and again keeps every traceback it was raised through, and with it the frames that
    hold the rejected upload (a leak anyone could drive without a key).
    """

    status: int
    error: str

    def __call__(self) -> ApiError:
        return ApiError(self)

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


class ApiError(Exception):
    """An error answered to the client; raise a fresh one each time (`errors.DENIED()`)."""

    def __init__(self, vendor: VendorError) -> None:
        super().__init__(vendor.status, vendor.error)
        self.vendor = vendor

    @property
    def status(self) -> int:
        return self.vendor.status

    @property
    def error(self) -> str:
        return self.vendor.error

    def __str__(self) -> str:
        return f"{self.status} {self.error}"


def missing_arguments(key: str) -> ApiError:
    return VendorError(400, f"MISSING_ARGUMENTS: {key}")()


def bad_arguments(key: str) -> ApiError:
    return VendorError(400, f"BAD_ARGUMENTS: {key}")()


# The form itself is broken (framing, too many parts, a name too long): no one argument to name.
BAD_ARGUMENTS = VendorError(400, "BAD_ARGUMENTS")
INVALID_IMAGE_SIZE = VendorError(400, "INVALID_IMAGE_SIZE: image")
UNSUPPORTED_FORMAT = VendorError(400, "IMAGE_ERROR_UNSUPPORTED_FORMAT: image")
ID_CARD_NOT_FOUND = VendorError(400, "ID_CARD_NOT_FOUND")
KEY_NOT_FOUND = VendorError(400, "KEY_NOT_FOUND")
AUTHENTICATION_ERROR = VendorError(403, "AUTHENTICATION_ERROR")
DENIED = VendorError(403, "AUTHORIZATION_ERROR:DENIED.")
LIMIT_REACHED = VendorError(403, "AUTHORIZATION_ERROR:Limit reached.")
CONCURRENCY_LIMIT_EXCEEDED = VendorError(403, "CONCURRENCY_LIMIT_EXCEEDED")
API_NOT_FOUND = VendorError(404, "API_NOT_FOUND")
TOO_LARGE = VendorError(413, TOO_LARGE_TEXT)
INTERNAL_ERROR = VendorError(500, "INTERNAL_ERROR")

_ENGINE_ERRORS: tuple[tuple[type[EngineError], VendorError], ...] = (
    (UnsupportedImageError, UNSUPPORTED_FORMAT),
    (ImageSizeError, INVALID_IMAGE_SIZE),
    (CardNotFoundError, ID_CARD_NOT_FOUND),
)


def from_exception(exc: BaseException) -> VendorError:
    """The vendor error for any exception; anything unexpected is INTERNAL_ERROR (nothing leaks)."""
    if isinstance(exc, ApiError):
        return exc.vendor
    for cls, vendor in _ENGINE_ERRORS:
        if isinstance(exc, cls):
            return vendor
    return INTERNAL_ERROR
