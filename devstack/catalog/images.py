"""Tiny deterministic PNGs, written with zlib and struct only.

An image is a function of a key (the URL path plus a version number), so the same URL
always gives the same bytes until its version is bumped, which is what a re-upload test
needs to see.
"""

from __future__ import annotations

import hashlib
import random
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bytes(key: str, version: int = 0) -> bytes:
    """An RGB PNG of 16..64 px a side: stripes in a seeded palette plus some noise, which
    keeps the compressed size between a few hundred bytes and a few KB."""
    digest = hashlib.sha256(f"{key}#v{version}".encode()).digest()
    rng = random.Random(digest)
    width, height = 16 + digest[0] % 49, 16 + digest[1] % 49
    palette = [bytes(rng.randrange(256) for _ in range(3)) for _ in range(4)]
    period = 2 + digest[2] % 7
    noise = (digest[3] % 20) / 100
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type "None" for each scanline
        for x in range(width):
            if rng.random() < noise:
                rows += bytes(rng.randrange(256) for _ in range(3))
            else:
                rows += palette[((x + y) // period) % len(palette)]
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )
