"""Bad inputs must end in a typed error, never a crash or an empty result."""

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from engine.errors import ImageSizeError, UnsupportedImageError
from engine.image.decode import decode_image


def _encode(img: np.ndarray, ext: str) -> bytes:
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a size in its header; the pixel data is a stub."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")
    )


GRADIENT = np.tile(np.linspace(0, 255, 320, dtype=np.uint8)[None, :, None], (240, 1, 3))


@pytest.mark.parametrize("ext", [".jpg", ".png", ".bmp", ".webp", ".tiff"])
def test_formats_decode(ext: str) -> None:
    img = decode_image(_encode(GRADIENT, ext))
    assert img.shape == (240, 320, 3)


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b"", UnsupportedImageError),
        (b"\x00" * 1000, UnsupportedImageError),
        (np.random.default_rng(1).bytes(5000), UnsupportedImageError),
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF", UnsupportedImageError),
        (_encode(np.zeros((1, 1, 3), np.uint8), ".png"), ImageSizeError),
        (_encode(np.zeros((150, 400, 3), np.uint8), ".jpg"), ImageSizeError),
        (_png_header_only(8200, 300), ImageSizeError),
        (_png_header_only(200_000, 200_000), ImageSizeError),
    ],
    ids=["zero-bytes", "zeros", "random", "pdf", "1x1-png", "150px", "8200px", "huge-declared"],
)
def test_bad_inputs(payload: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        decode_image(payload)


def test_truncated_jpeg_is_refused_or_decoded_never_crashes() -> None:
    data = _encode(np.full((400, 600, 3), 128, np.uint8), ".jpg")
    truncated = data[: len(data) // 3]
    try:
        img = decode_image(truncated)
    except UnsupportedImageError:
        return
    assert img.shape[:2] == (400, 600)


def test_exif_orientation_is_applied() -> None:
    img = np.zeros((300, 500, 3), np.uint8)
    img[:, :250] = 255  # left half white
    pil = Image.fromarray(img)
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: display rotated 90° clockwise
    buf = io.BytesIO()
    pil.save(buf, format="JPEG", exif=exif.tobytes())
    out = decode_image(buf.getvalue())
    assert out.shape[:2] == (500, 300)
    assert out[:250].mean() > 200 and out[260:].mean() < 50  # the white half is now on top


def test_large_jpegs_are_decoded_smaller_and_say_by_how_much() -> None:
    from engine.image.decode import REDUCE_ABOVE_PX, decode_scaled

    big = np.full((3000, 6000, 3), 128, np.uint8)
    big[::50] = 0  # some detail, so the file is in proportion to its pixels
    ok, jpg = cv2.imencode(".jpg", big)
    assert ok
    img, factor = decode_scaled(jpg.tobytes())
    assert factor == 2 and img.shape[:2] == (1500, 3000)
    ok, png = cv2.imencode(".png", big)
    img, factor = decode_scaled(png.tobytes())
    assert factor == 1 and img.shape[:2] == (3000, 6000)  # no cheaper way to decode a PNG smaller
    small = big[:, : REDUCE_ABOVE_PX - 100]
    ok, jpg = cv2.imencode(".jpg", small)
    assert decode_scaled(jpg.tobytes())[1] == 1
