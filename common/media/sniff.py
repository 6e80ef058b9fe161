"""The type of media bytes, read from the bytes themselves (never from a name or a header).

Signatures come from the `filetype` library (magic numbers of the first bytes; it reads at most
`SNIFF_BYTES`), plus MPEG transport streams, which it does not know: 188-byte packets that each
begin with the sync byte 0x47 (ISO/IEC 13818-1, 2.4.3.2), or 192-byte packets of Blu-ray
M2TS with a 4-byte time code before each sync byte. Cloud Storage and the device may say
anything; the container the bytes are in is what decoders will see, so it is what the pipeline
trusts.
"""

from __future__ import annotations

SNIFF_BYTES = 8192
"""How many leading bytes sniffing needs at most."""

_FAMILIES = (
    frozenset({"video/mp4", "video/quicktime"}),
    frozenset({"video/webm", "video/x-matroska"}),
)
"""Containers that are one format under two names: MP4 and QuickTime are both ISO base media
files (ISO/IEC 14496-12; the `ftyp` brand differs), WebM is a profile of Matroska."""

MPEG_TS = "video/mp2t"
_TS_PACKETS = 4
"""Consecutive packets whose sync bytes must be there for bytes to be an MPEG transport stream."""


def _is_transport_stream(head: bytes) -> bool:
    for size, offset in ((188, 0), (192, 4)):
        if len(head) >= offset + size * (_TS_PACKETS - 1) + 1 and all(
            head[offset + size * i] == 0x47 for i in range(_TS_PACKETS)
        ):
            return True
    return False


def sniff_mime(head: bytes) -> str | None:
    """The MIME type the leading bytes' signature names (e.g. "image/png"), or None if unknown."""
    import filetype

    data = bytes(head[:SNIFF_BYTES])
    kind = filetype.guess(data)
    if kind is not None:
        return str(kind.mime)
    return MPEG_TS if _is_transport_stream(data) else None


def matches_declared(declared: str, sniffed: str | None) -> bool:
    """Tell whether bytes sniffed as `sniffed` may be stored and served as `declared`.

    Equal types match; so do two names of one container family (`_FAMILIES`).
    """
    if sniffed is None:
        return False
    return declared == sniffed or any({declared, sniffed} <= family for family in _FAMILIES)
