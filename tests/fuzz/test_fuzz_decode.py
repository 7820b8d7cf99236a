"""Hypothesis on image decoding: random bytes, and real images with bytes flipped, cut, spliced or their
declared size rewritten. Decoding returns an upright 8-bit BGR image or raises the engine's image errors
(IMAGE_ERROR_UNSUPPORTED_FORMAT / INVALID_IMAGE_SIZE on the wire); nothing else, and fast."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from fuzz_support import bounded
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from engine.errors import ImageSizeError, UnsupportedImageError
from engine.image.decode import decode_image

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's notes on the corrupt files we feed it


def _encoded(fmt: str, mode: str = "RGB", **options: object) -> bytes:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 255, size=(240, 320, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buf, fmt, **options)
    return buf.getvalue()


SEEDS = [
    _encoded("JPEG", quality=80),
    _encoded("JPEG", "CMYK"),
    _encoded("PNG"),
    _encoded("PNG", "1"),
    _encoded("PNG", "I;16"),
    _encoded("GIF"),
    _encoded("WEBP"),
    _encoded("BMP"),
    _encoded("TIFF", compression="tiff_lzw"),
]


def _check(data: bytes) -> None:
    try:
        img = decode_image(data)
    except (UnsupportedImageError, ImageSizeError):
        return
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert min(img.shape[:2]) >= 200 and max(img.shape[:2]) <= 8000


@given(st.binary(max_size=4096))
@bounded(300)
def test_random_bytes(data: bytes) -> None:
    _check(data)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(max_size=64))
    return bytes(data)


@given(mutated())
@bounded(400)
def test_mutated_images(data: bytes) -> None:
    _check(data)


def _png_declaring(width: int, height: int, bit_depth: int, color_type: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\0" * 4096))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + idat + chunk(b"IEND", b"")


@given(
    st.integers(1, 2**31 - 1) | st.integers(150, 9000),
    st.integers(1, 2**31 - 1) | st.integers(150, 9000),
    st.sampled_from([(1, 0), (8, 0), (8, 2), (16, 2), (8, 6), (2, 3)]),
)
@bounded(200)
def test_declared_sizes(width: int, height: int, depth_and_type: tuple[int, int]) -> None:
    """Whatever size a header declares, the decode is refused or done within the limits, never blown up."""
    _check(_png_declaring(width, height, *depth_and_type))
