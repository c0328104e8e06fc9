"""Profile and banner images: what is accepted, how it is stored, where it is served.

An upload's type is read from its first bytes, never from its name or Content-Type. It must
decode completely (truncated files are refused), the decoder must agree with the magic bytes
(lying files are refused) and its header must not announce more pixels than the budget (a
190 KB PNG can unpack to 7000 x 7000 x 4 bytes: refused before anything is decoded). GIFs are
kept as they are; everything else is scaled to fit 2000 x 2000 and re-encoded as lossless
WebP, which also drops any metadata (the registry's avatars: 450 x 450, lossy, GIFs too).

Decoding is memory- and CPU-bound: JPEGs are decoded at the smallest scale that still fills
the slot, at most one image per core is worked on at a time (the rest queue), and the memory
an image took is handed back to the system when it is done.
Files are stored under a hash of their owner and content, so a URL never changes meaning (it
can be cached for a year) and tells nothing about who else has the same picture; a file is
deleted once no profile shows it (`user_service.media`).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import io
import os
import threading
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from tessera_shared import limits
from tessera_shared.errors import DomainError, bad_request
from user_service import errors
from user_service.storage import MediaStore

MiB = limits.MiB
MAX_SIDE = 2000
MAX_SIDE_DECODED = 4096
MAX_PIXELS = MAX_SIDE_DECODED**2  # a 16-megapixel photo fits; decoded as RGBA, 64 MiB
FOLDER = "user-images"

_slots = threading.BoundedSemaphore(os.cpu_count() or 1)


def _glibc() -> ctypes.CDLL | None:
    """glibc, whose `malloc_trim` hands freed memory back; None with another C library."""
    name = ctypes.util.find_library("c")
    library = ctypes.CDLL(name) if name else None
    return library if library is not None and hasattr(library, "malloc_trim") else None


_libc = _glibc()

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


PROFILE = Slot("profile_image", limits.PROFILE_IMAGE, "profile image")
BANNER = Slot("banner_image", limits.BANNER_IMAGE, "banner image")


def sniff(data: bytes) -> str | None:
    """The image format the bytes say they are, if one we take."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return next((name for magic, name in _MAGIC if data.startswith(magic)), None)


@contextlib.contextmanager
def _image_work() -> Iterator[None]:
    """One decode-and-encode at a time per core; afterwards the freed memory goes back to the
    system (glibc keeps large freed blocks in its arenas otherwise: a worker that once decoded
    a big image would stay that big)."""
    with _slots:
        try:
            yield
        finally:
            _release_memory()


def _release_memory() -> None:
    if _libc is not None:
        _libc.malloc_trim(0)


def _draft_size(size: tuple[int, int], side: int) -> tuple[int, int]:
    """What a JPEG may be decoded down to (by 1/2, 1/4 or 1/8) before it is fitted into
    `side` x `side`: twice the fitted size, as `Image.thumbnail` keeps, so no sharpness is
    lost; other formats decode at full size whatever this says."""
    width, height = size
    scale = min(1.0, side / max(width, height))
    return max(1, round(2 * width * scale)), max(1, round(2 * height * scale))


def process(data: bytes, slot: Slot) -> tuple[bytes, str]:
    """Validate an upload and turn it into what is stored; returns (bytes, extension)."""
    if not data:
        raise bad_request("Empty file")
    if len(data) > slot.max_bytes:
        raise errors.FILE_TOO_LARGE(
            f"The {slot.label} may be at most {slot.max_bytes // MiB} MiB.")
    claimed = sniff(data)
    if claimed is None:
        raise bad_request("Unsupported image type: send JPEG, PNG, GIF or WebP.")
    with _image_work():
        return _reencode(data, claimed, slot)


def _reencode(data: bytes, claimed: str, slot: Slot) -> tuple[bytes, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
            if image.format != claimed:
                raise bad_request(f"The file starts like {claimed} but is {image.format}.")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise bad_request(f"The image is {width} x {height} pixels; send one of at "
                                  f"most {MAX_PIXELS // 1_000_000} megapixels, such as "
                                  f"{MAX_SIDE_DECODED} x {MAX_SIDE_DECODED}.")
            image.draft(image.mode, _draft_size(image.size, slot.max_side))
            image.load()  # decodes everything: a truncated file fails here
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise bad_request("That image could not be read (it may be damaged or cut short); "
                          "send JPEG, PNG, GIF or WebP.") from None
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


def store(media: MediaStore, data: bytes, extension: str, *, owner: str) -> str:
    """Save `owner`'s image; returns its storage key (`user-images/<hash>.<ext>`)."""
    digest = hashlib.sha256(owner.encode() + b"\0" + data).hexdigest()
    key = f"{FOLDER}/{digest}.{extension}"
    media.write(key, data)
    return key


def _copies(key: str) -> str:
    """The start of the keys of an image's scaled copies."""
    return f"{key.rsplit('.', 1)[0]}-"


def fitted(media: MediaStore, key: str, side: int, quality: int) -> bytes | None:
    """A stored image's bytes, scaled to fit `side` x `side` (lossy WebP at `quality`) if it
    is larger or a GIF; the scaled copy is made once and kept beside the original. None if
    the image is gone."""
    derived = f"{_copies(key)}{side}q{quality}.webp"
    if (kept := media.read(derived)) is not None:
        return kept
    if (original := media.read(key)) is None:
        return None
    with _image_work(), Image.open(io.BytesIO(original)) as image:
        if image.format != "GIF" and max(image.size) <= side:
            return original
        image.draft(image.mode, _draft_size(image.size, side))
        image.load()
        copy = image.convert("RGBA" if "transparency" in image.info or "A" in image.mode
                             else "RGB")
        copy.thumbnail((side, side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        copy.save(out, "WEBP", quality=quality, method=6)
    media.write(derived, out.getvalue())
    return out.getvalue()


def discard(media: MediaStore, keys: Iterable[str]) -> None:
    """Delete stored images and the scaled copies made of them (gone already is fine). It
    runs once the change that let them go has committed, so a store that fails now leaves
    them behind (logged by the store) rather than failing that change."""
    for key in keys:
        with contextlib.suppress(DomainError):
            media.delete([*media.keys(_copies(key)), key])


def public_url(public_base: str, key: str | None) -> str | None:
    return None if key is None else f"{public_base}/media/{key}"
