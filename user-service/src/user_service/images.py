"""Profile and banner images: what is accepted, how it is stored, where it is served.

An upload's type is read from its first bytes, never from its name or Content-Type. It must
decode completely (truncated files are refused), the decoder must agree with the magic bytes
(lying files are refused) and it must not unpack into an absurd number of pixels
(decompression bombs are refused before decoding). GIFs are kept as they are; everything else
is scaled to fit 2000 x 2000 and re-encoded as lossless WebP, which also drops any metadata
(the registry's avatars: 450 x 450, lossy, GIFs too).
Files are stored under their content hash, so one image is stored once and its URL never
changes meaning: it can be cached for a year.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from tessera_shared.errors import DomainError, bad_request

MiB = 1 << 20
MAX_SIDE = 2000
MAX_PIXELS = 50_000_000  # far above any photo, far below what would exhaust memory
FOLDER = "user-images"

_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)


@dataclass(frozen=True)
class Slot:
    """Where on a profile an image goes, how large an upload may be, and how it is encoded:
    lossless WebP by default, or lossy at `quality`; GIFs kept unless `keep_gif` is off."""

    column: str
    max_bytes: int
    label: str
    max_side: int = MAX_SIDE
    quality: int | None = None
    keep_gif: bool = True


PROFILE = Slot("profile_image", 4 * MiB, "profile image")
BANNER = Slot("banner_image", 8 * MiB, "banner image")


def sniff(data: bytes) -> str | None:
    """The image format the bytes say they are, if one we take."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return next((name for magic, name in _MAGIC if data.startswith(magic)), None)


def process(data: bytes, slot: Slot) -> tuple[bytes, str]:
    """Validate an upload and turn it into what is stored; returns (bytes, extension)."""
    if not data:
        raise bad_request("Empty file")
    if len(data) > slot.max_bytes:
        raise DomainError("file:read_error", 400,
                          f"The {slot.label} may be at most {slot.max_bytes // MiB} MiB.")
    claimed = sniff(data)
    if claimed is None:
        raise bad_request("Unsupported image type: send JPEG, PNG, GIF or WebP.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format != claimed:
                raise bad_request(f"The file starts like {claimed} but is {image.format}.")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise bad_request(f"The image is {width} x {height} pixels; that is too many.")
            image.load()  # decodes everything: a truncated file fails here
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise bad_request(f"The image could not be read ({type(error).__name__}).") from None
    if claimed == "GIF" and slot.keep_gif:
        return data, "gif"
    if image.mode not in {"RGB", "RGBA"}:
        image = image.convert("RGBA" if "transparency" in image.info or "A" in image.mode
                              else "RGB")
    image.thumbnail((slot.max_side, slot.max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if slot.quality is None:
        image.save(out, "WEBP", lossless=True)
    else:
        image.save(out, "WEBP", quality=slot.quality, method=6)
    return out.getvalue(), "webp"


def store(media_dir: Path, data: bytes, extension: str, *, key: str | None = None) -> str:
    """Save under the content's hash (or the given key); returns the storage key
    (`user-images/<hash>.<ext>`)."""
    key = key or f"{FOLDER}/{hashlib.sha256(data).hexdigest()}.{extension}"
    path = media_dir / key
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        partial.rename(path)  # readers never see half a file
    return key


def fitted(media_dir: Path, key: str, side: int, quality: int) -> bytes | None:
    """A stored image's bytes, scaled to fit `side` x `side` (lossy WebP at `quality`) if it
    is larger or a GIF; the scaled copy is made once and kept beside the original. None if
    the file is gone."""
    path = media_dir / key
    derived = media_dir / f"{key.rsplit('.', 1)[0]}-{side}q{quality}.webp"
    try:
        if derived.exists():
            return derived.read_bytes()
        with Image.open(path) as image:
            if image.format != "GIF" and max(image.size) <= side:
                return path.read_bytes()
            image.load()
            copy = image.convert("RGBA" if "transparency" in image.info or "A" in image.mode
                                 else "RGB")
    except FileNotFoundError:
        return None
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, "WEBP", quality=quality, method=6)
    store(media_dir, out.getvalue(), "webp", key=str(derived.relative_to(media_dir)))
    return out.getvalue()


def public_url(public_base: str, key: str | None) -> str | None:
    return None if key is None else f"{public_base}/media/{key}"
