"""Hostile images and bodies through the real server: each answers a vendor error (or is read), fast,
and none leaves the server holding memory."""

from __future__ import annotations

import io
import struct
import time
import zlib
from collections.abc import Iterator

import httpx
import psutil
import pytest
from api_server import Server
from PIL import Image
from test_api_http import assert_error, post

from benchmarks.synth import Sample, generate_sample

MiB = 1024 * 1024
IMAGE_ERRORS = {"IMAGE_ERROR_UNSUPPORTED_FORMAT: image", "INVALID_IMAGE_SIZE: image", "ID_CARD_NOT_FOUND"}


@pytest.fixture(scope="module")
def front() -> Sample:
    return generate_sample(seed=3, tier="clean", side=0)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares `width` x `height` (its pixels are a few bytes of zeros)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def bomb_png(side_px: int = 7999) -> bytes:
    """A real, fully valid 1-bit PNG of side_px x side_px: ~16 KB that decode to 190 MB of BGR."""
    buf = io.BytesIO()
    Image.new("1", (side_px, side_px), 1).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def jpeg_with_sof(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) is rewritten to declare width x height."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (128, 128, 128)).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def test_png_bomb_is_refused_at_once(server: Server) -> None:
    """7999 x 7999 px in a 16 KB file cost 1.1-1.7 s and +370 MB of RSS to decode before it was refused."""
    bomb = bomb_png()
    assert len(bomb) < 64 * 1024
    process = psutil.Process(server.pid)
    before = process.memory_info().rss
    started = time.monotonic()
    response = post(server, image=bomb)
    elapsed_s = time.monotonic() - started
    assert_error(response, 400, "INVALID_IMAGE_SIZE: image")
    assert elapsed_s < 0.6, f"{elapsed_s:.2f} s"
    assert process.memory_info().rss - before < 100 * MiB


@pytest.mark.parametrize(
    "image",
    [png_declaring(100_000, 100_000), png_declaring(8001, 300), jpeg_with_sof(65_000, 65_000)],
    ids=["png-100k", "png-8001", "jpeg-sof-65k"],
)
def test_declared_sizes_past_the_limit_are_refused_unread(server: Server, image: bytes) -> None:
    assert_error(post(server, image=image), 400, "INVALID_IMAGE_SIZE: image")


def test_truncated_files_answer_image_errors(server: Server, front: Sample) -> None:
    png = _save(Image.open(io.BytesIO(front.image_bytes)), "PNG")
    for data in (front.image_bytes[: len(front.image_bytes) // 3], png[: len(png) // 3], png[:40], b"\xff\xd8\xff"):
        response = post(server, image=data)
        assert response.status_code == 400 and response.json()["error"] in IMAGE_ERRORS, response.text


def _cmyk(im: Image.Image) -> bytes:
    return _save(im.convert("CMYK"), "JPEG", quality=95)


def _png16(im: Image.Image) -> bytes:
    return _save(im.convert("I;16"), "PNG")


def _animated(im: Image.Image) -> bytes:
    blank = Image.new("RGB", im.size, (0, 0, 0))
    return _save(im, "GIF", save_all=True, append_images=[blank, blank], duration=100, loop=0)


def _multipage(im: Image.Image) -> bytes:
    return _save(im, "TIFF", save_all=True, append_images=[Image.new("RGB", im.size)], compression="tiff_lzw")


@pytest.mark.parametrize("convert", [_cmyk, _png16, _animated, _multipage], ids=["cmyk", "png16", "gif", "tiff"])
def test_unusual_encodings_are_read_or_answer_image_errors(server: Server, front: Sample, convert: object) -> None:
    """CMYK, 16-bit, animated and multi-page images: the first frame is read; no 500, no hang."""
    assert callable(convert)
    image = convert(Image.open(io.BytesIO(front.image_bytes)).convert("RGB"))
    response = post(server, image=image)
    if response.status_code == 200:
        assert response.json()["side"] == 0
    else:
        assert response.status_code == 400 and response.json()["error"] in IMAGE_ERRORS, response.text


def test_chunked_50mb_body_is_refused_without_buffering(server: Server) -> None:
    process = psutil.Process(server.pid)
    before = process.memory_info().rss

    def chunks() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n'
        block = b"\xab" * MiB
        for _ in range(50):
            yield block

    try:
        response = httpx.post(
            server.endpoint, content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"}, timeout=60
        )
        assert response.status_code == 413 and response.text == "Request Entity Too Large"
    except httpx.TransportError:  # closed while we were still sending: refused all the same
        pass
    grown_mib = (process.memory_info().rss - before) / MiB
    assert grown_mib < 40, f"RSS grew {grown_mib:.0f} MiB"
