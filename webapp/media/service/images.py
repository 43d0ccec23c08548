"""Checking an uploaded image and cleaning it, in an isolated process (core/isolation.py) under
limits of CPU time and memory: decoding is where a crafted file does harm (a decompression bomb,
a decoder bug), so it never happens in the web process.

Only what mail clients show is taken: PNG, JPEG, GIF and WebP, read by their content, never by the
file's name or the browser's word. SVG is refused: few mail clients show it, and it can carry
script. A photo's metadata (EXIF: where it was taken, the camera, often the owner's name) is
removed before anyone can download it from the newsletter: a JPEG or WebP with any is saved again
without it (turned as its EXIF said, colour profile kept), a PNG with text chunks too. Other files
are kept byte for byte."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from webapp.core import isolation
from webapp.core.isolation import Failed, Kind, Limits

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
MAX_PIXELS = 40_000_000  # 8000 x 5000: more is no email image, and decoding it costs hundreds of MB
SAVED_QUALITY = 90
LIMITS = Limits(cpu_seconds=10.0, memory_mb=768)
NOT_AN_IMAGE = "Not an image we can use: upload a PNG, JPEG, GIF or WebP file."
TOO_MANY_PIXELS = f"The image is too large: at most {MAX_PIXELS // 1_000_000} megapixels."
TOO_COSTLY = "The image took too long or too much memory to read: save it smaller and try again."

isolation.preload(__name__)
_pool = isolation.Pool(LIMITS, 1)


@dataclass(frozen=True)
class Cleaned:
    data: bytes
    content_type: str
    width: int
    height: int


class ImageRefused(ValueError):
    """Why an upload is not taken, in words for the person who sent it."""


async def clean(data: bytes) -> Cleaned:
    """The image ready to store and serve; ImageRefused saying why not."""
    (result,) = await _pool.amap(_clean, [data])
    if isinstance(result, Failed):
        if result.kind is Kind.ERROR and result.error == "ImageRefused":
            raise ImageRefused(result.message)
        raise ImageRefused(TOO_COSTLY if result.over_limit else NOT_AN_IMAGE)
    if not isinstance(result, Cleaned):
        raise ImageRefused(NOT_AN_IMAGE)
    return result


def _clean(_: object, data: bytes) -> Cleaned:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # past it Pillow raises rather than decoding
    try:
        with Image.open(io.BytesIO(data)) as image:
            content_type = FORMATS.get(image.format or "")
            if content_type is None:
                raise ImageRefused(NOT_AN_IMAGE)
            if image.width * image.height > MAX_PIXELS:  # Pillow only warns up to twice its limit
                raise ImageRefused(TOO_MANY_PIXELS)
            image.load()  # decodes it all: a truncated or malformed file fails here, not when shown
            cleaned = _without_metadata(image)
    except Image.DecompressionBombError:
        raise ImageRefused(TOO_MANY_PIXELS) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, ImageRefused):
            raise
        raise ImageRefused(NOT_AN_IMAGE) from None
    if cleaned is None:
        return Cleaned(data, content_type, *image.size)
    shown, saved = cleaned
    return Cleaned(saved, content_type, *shown.size)


def _without_metadata(image: Image.Image) -> tuple[Image.Image, bytes] | None:
    """The image as shown and saved again without its metadata, or None when it has none to remove."""
    info = image.info
    if image.format in ("JPEG", "WEBP") and (info.get("exif") or info.get("xmp") or image.getexif()):
        shown = ImageOps.exif_transpose(image)
        options = {"quality": SAVED_QUALITY, "icc_profile": info.get("icc_profile")}
    elif image.format == "PNG" and any(key not in ("icc_profile", "dpi", "gamma", "transparency") for key in info):
        shown = image
        options = {"icc_profile": info.get("icc_profile"), "transparency": info.get("transparency")}
    else:
        return None
    out = io.BytesIO()
    shown.save(out, format=image.format, **{key: value for key, value in options.items() if value is not None})
    return shown, out.getvalue()
