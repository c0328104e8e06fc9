"""Image files for tests: real ones, and broken or hostile ones."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

from PIL import Image


def encoded(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB",
            color: object = "teal") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas: a decompression bomb's first move."""
    data = bytearray(encoded("PNG", (1, 1)))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4:ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr:ihdr + 17]))
    data[ihdr + 17:ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


@cache
def pixel_bomb() -> bytes:
    """A real file, not a lying header: a flat 7000 x 7000 RGBA PNG, 190 KB that decode to
    187 MiB (what the attack on the running platform uploaded)."""
    out = io.BytesIO()
    Image.new("RGBA", (7000, 7000)).save(out, "PNG", optimize=True)
    return out.getvalue()
