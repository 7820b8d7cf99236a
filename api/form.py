"""The request's form, parsed in memory with the vendor's errors.

Starlette's parser spools a file part over 1 MiB to a temporary file on disk; the service promises to
write nothing but keys and counters, so uploads stay in memory (the body is capped at
`max_body_bytes` by the edge, which bounds it). Framing errors name the argument at fault when there
is one (`BAD_ARGUMENTS: sign`), and say `BAD_ARGUMENTS` alone when the form as a whole is broken.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData, Headers
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser

from api import errors

MAX_FIELDS = 32
MAX_FILES = 4
MAX_NAME_CHARS = 64
# A part's headers (Content-Disposition with its name and filename, Content-Type): real clients send
# well under 1 KiB.
MAX_PART_HEADER_BYTES = 8 * 1024


class _FormTooMessy(MultiPartException):
    """A framing error that names no argument."""


class _InMemoryMultiPart(MultiPartParser):
    def __init__(self, headers: Headers, stream: AsyncGenerator[bytes, None], *, max_bytes: int) -> None:
        super().__init__(headers, stream, max_files=MAX_FILES, max_fields=MAX_FIELDS, max_part_size=max_bytes)
        self.spool_max_size = max_bytes  # SpooledTemporaryFile stays in memory up to this size
        self._header_bytes = 0

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self._header_bytes = 0

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        super().on_header_field(data, start, end)

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        super().on_header_value(data, start, end)

    def _count_header(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > MAX_PART_HEADER_BYTES:
            raise _FormTooMessy("part headers too long")

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        if len(self._current_part.field_name) > MAX_NAME_CHARS:
            raise _FormTooMessy("field name too long")

    @property
    def current_field(self) -> str:
        return self._current_part.field_name


async def parse_form(headers: Headers, stream: AsyncGenerator[bytes, None], *, max_bytes: int) -> FormData:
    """The form of a multipart or urlencoded body (any other type: an empty form, so the vendor's
    MISSING_ARGUMENTS answers). Raises `ApiError` for a broken form."""
    content_type, params = parse_options_header(headers.get("content-type", ""))
    try:
        if content_type == b"multipart/form-data":
            if not params.get(b"boundary"):
                raise errors.BAD_ARGUMENTS()
            parser = _InMemoryMultiPart(headers, stream, max_bytes=max_bytes)
            try:
                return await parser.parse()
            except _FormTooMessy as exc:
                raise errors.BAD_ARGUMENTS() from exc
            except MultiPartException as exc:
                # A part over the size limit is that argument's fault; anything else is the framing's.
                name = parser.current_field
                if exc.message.startswith("Part exceeded") and 0 < len(name) <= MAX_NAME_CHARS and name.isprintable():
                    raise errors.bad_arguments(name) from exc
                raise errors.BAD_ARGUMENTS() from exc
        if content_type == b"application/x-www-form-urlencoded":
            return await FormParser(headers, stream, max_fields=MAX_FIELDS, max_part_size=max_bytes).parse()
    except MultiPartException as exc:
        raise errors.BAD_ARGUMENTS() from exc
    return FormData()
