"""The type of media bytes, read from the bytes themselves (never from a name or a header).

Signatures come from the `filetype` library (magic numbers of the first bytes; it reads at most
`SNIFF_BYTES`). Cloud Storage and the device may say anything; the container the bytes are in is
what decoders will see, so it is what the pipeline trusts.
"""

from __future__ import annotations

SNIFF_BYTES = 8192
"""How many leading bytes sniffing needs at most."""

_ISO_BMFF = frozenset({"video/mp4", "video/quicktime"})
"""MP4 and QuickTime are both ISO base media files (ISO/IEC 14496-12); the `ftyp` brand differs."""


def sniff_mime(head: bytes) -> str | None:
    """The MIME type the leading bytes' signature names (e.g. "image/png"), or None if unknown."""
    import filetype

    kind = filetype.guess(bytes(head[:SNIFF_BYTES]))
    return None if kind is None else str(kind.mime)


def matches_declared(declared: str, sniffed: str | None) -> bool:
    """Tell whether bytes sniffed as `sniffed` may be stored and served as `declared`.

    Equal types match; MP4 and QuickTime match each other (one container family).
    """
    if sniffed is None:
        return False
    return declared == sniffed or {declared, sniffed} <= _ISO_BMFF
