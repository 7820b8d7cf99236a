"""Decode stage: bytes to a BGR image, upright per EXIF, within the vendor's 200-8000 px limits.

The header is read first (Pillow reads it without decoding pixels), so a declared size past the limits
costs nothing. A file far smaller than any real photo of its declared size is a decompression bomb (a
7.8 KB 1-bit PNG of 7999x7999 px once cost 1.7 s and 360 MB to decode) and is refused unread; so one
decode costs at most the pixels of an 8000x8000 image, and only for a file whose size is in
proportion to them.
"""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import ImageSizeError, UnsupportedImageError

MIN_SIDE_PX = 200
MAX_SIDE_PX = 8000
# Below this many pixels a decode is cheap whatever the file's size.
BOMB_CHECK_MIN_PIXELS = 4_000_000
# The fewest file bytes per pixel of anything a camera or scanner makes: a flat grey JPEG (the most
# compressible photo) still takes ~0.004 B/px; a bomb PNG takes ~0.0003.
MIN_BYTES_PER_PIXEL = 0.002
_EXIF_ORIENTATION = 0x0112
# EXIF orientation → (cv2 rotate code or None, flip horizontally first)
_ORIENT: dict[int, tuple[int | None, bool]] = {
    2: (None, True),
    3: (cv2.ROTATE_180, False),
    4: (cv2.ROTATE_180, True),
    5: (cv2.ROTATE_90_CLOCKWISE, True),
    6: (cv2.ROTATE_90_CLOCKWISE, False),
    7: (cv2.ROTATE_90_COUNTERCLOCKWISE, True),
    8: (cv2.ROTATE_90_COUNTERCLOCKWISE, False),
}


def _header(image_bytes: bytes) -> tuple[tuple[int, int], int]:
    """Size and EXIF orientation read from the header alone: a huge declared size is refused unread."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(image_bytes)) as im:
                size = im.size
                orientation = _orientation(im)
    except Image.DecompressionBombError as exc:
        raise ImageSizeError("declared image size is far beyond the limit") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise UnsupportedImageError("not a decodable image") from exc
    return size, orientation


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(_EXIF_ORIENTATION, 1))
    except (OSError, ValueError, SyntaxError, TypeError):
        return 1  # unreadable metadata: the pixels may still be fine


# A JPEG longer than this is decoded at half its size or less by libjpeg's own scaling (its DCT decodes
# fewer pixels; memory and time fall with them): the engine never needs more than half of 8000 px.
REDUCE_ABOVE_PX = 4096
_REDUCED = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4}


def decode_image(image_bytes: bytes) -> np.ndarray:
    """The photo at full size (upright, BGR)."""
    return decode_scaled(image_bytes, reduce=False)[0]


def decode_scaled(image_bytes: bytes, reduce: bool = True) -> tuple[np.ndarray, int]:
    """The photo, upright, and the factor its pixels were reduced by (1 unless a JPEG over
    `REDUCE_ABOVE_PX` was decoded smaller): multiply coordinates on it by the factor for the original's."""
    if not image_bytes:
        raise UnsupportedImageError("empty image")
    (w, h), orientation = _header(image_bytes)
    if min(w, h) < MIN_SIDE_PX or max(w, h) > MAX_SIDE_PX:
        raise ImageSizeError(f"image is {w}x{h} px; sides must be {MIN_SIDE_PX}-{MAX_SIDE_PX} px")
    if w * h > BOMB_CHECK_MIN_PIXELS and len(image_bytes) < w * h * MIN_BYTES_PER_PIXEL:
        raise ImageSizeError(f"{len(image_bytes)} bytes declaring {w}x{h} px: a decompression bomb")
    buffer = np.frombuffer(image_bytes, dtype=np.uint8)
    factor = 1
    if reduce and image_bytes[:3] == b"\xff\xd8\xff":
        while factor < 4 and max(w, h) / (factor * 2) >= REDUCE_ABOVE_PX / 2:
            factor *= 2
    flags = _REDUCED[factor] if factor > 1 else cv2.IMREAD_COLOR
    img = cv2.imdecode(buffer, flags | cv2.IMREAD_IGNORE_ORIENTATION)
    if img is None:
        factor = 1
        img = _decode_with_pillow(image_bytes)
    rotate, flip = _ORIENT.get(orientation, (None, False))
    if flip:
        img = cv2.flip(img, 1)
    if rotate is not None:
        img = cv2.rotate(img, rotate)
    return np.ascontiguousarray(img), factor


def _decode_with_pillow(image_bytes: bytes) -> np.ndarray:
    """Formats OpenCV lacks (or truncated files it refuses) get one more try through Pillow."""
    try:
        with Image.open(io.BytesIO(image_bytes)) as im:
            rgb = np.asarray(im.convert("RGB"))
    except (OSError, ValueError, SyntaxError) as exc:
        raise UnsupportedImageError("image data could not be decoded") from exc
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
