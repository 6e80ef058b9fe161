"""Resumable uploads from a device: the two protocols a declaration's `resumable` answer names.

- `gcs_resumable` (https://cloud.google.com/storage/docs/performing-resumable-uploads): POST the
  signed start request (no body) and keep the session URI of its `Location`; PUT chunks of
  `chunk_size_bytes` with `Content-Range: bytes a-b/total` (and the Content-Type); each `308`
  answer's `Range: bytes=0-n` is the offset Cloud Storage holds, saved before the next chunk. An
  interrupted run resumes from the saved session URI and offset: it does not ask the session for
  its status (an empty PUT with `Content-Range: bytes */total`), because fake-gcs-server answers
  that by committing a truncated object. Real Cloud Storage accepts bytes it already has again.
- `s3_multipart` (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html): PUT each
  listed part to its presigned URL with exactly its headers. S3 itself holds the progress: a
  replayed declaration lists the parts stored and signs only the others, so nothing local is
  needed; part URLs about to expire are refreshed the same way.

The saved state of a GCS session is one JSON file per media in the state directory
(`MEDIACTL_STATE_DIR`, default `~/.local/state/mediactl`), removed once the object is stored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import requests

from cli.client import ApiError, FileFacts

REFRESH_MARGIN = timedelta(seconds=60)
"""Part URLs closer than this to their expiry are signed again before they are used."""
TIMEOUT_SECONDS = 120.0
READ_BYTES = 1 << 20


def default_state_dir() -> Path:
    """`$MEDIACTL_STATE_DIR`, else `$XDG_STATE_HOME/mediactl`, else `~/.local/state/mediactl`."""
    if explicit := os.environ.get("MEDIACTL_STATE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "mediactl"


@dataclass
class SessionState:
    """A Cloud Storage session in progress: its URI and the offset it confirmed (bytes)."""

    media_id: str
    size_bytes: int
    session_uri: str
    offset_bytes: int = 0


class StateDir:
    """Saved sessions, one `<media id>.json` each (written atomically, mode 0600)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, media_id: str) -> Path:
        return self.directory / f"{media_id}.json"

    def load(self, media_id: str, size_bytes: int) -> SessionState | None:
        """The saved session of `media_id` for a file of `size_bytes`, if any."""
        try:
            raw = json.loads(self._path(media_id).read_text())
            state = SessionState(**raw)
        except (OSError, ValueError, TypeError):
            return None
        return state if state.size_bytes == size_bytes else None

    def save(self, state: SessionState) -> None:
        """Write `state` (a crash leaves the previous file or the new one, never half of one)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self._path(state.media_id)
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(state)))
        temporary.chmod(0o600)
        temporary.replace(target)

    def drop(self, media_id: str) -> None:
        """Forget the session of `media_id`."""
        self._path(media_id).unlink(missing_ok=True)


class _SliceReader:
    """`length` bytes of `handle` from `offset`, read in blocks; reports each block's size."""

    def __init__(
        self, handle: BinaryIO, offset: int, length: int, on_bytes: Callable[[int], None]
    ) -> None:
        handle.seek(offset)
        self._handle, self._left, self._on_bytes = handle, length, on_bytes
        self._length = length

    def __len__(self) -> int:
        return self._length

    def read(self, amount: int = -1) -> bytes:
        wanted = self._left if amount is None or amount < 0 else min(amount, self._left)
        chunk = self._handle.read(min(wanted, READ_BYTES)) if wanted else b""
        self._left -= len(chunk)
        self._on_bytes(len(chunk))
        return chunk


def _refused(response: requests.Response, what: str) -> ApiError:
    return ApiError(response.status_code, "upload_failed", f"{what}: {response.text[:300]}")


def confirmed_offset(range_header: str | None) -> int:
    """The next byte to send after a `308`: `Range: bytes=0-n` → n + 1; no Range → 0."""
    if not range_header or not range_header.startswith("bytes=0-"):
        return 0
    return int(range_header.removeprefix("bytes=0-")) + 1


def upload_gcs(
    offer: dict[str, Any],
    media_id: str,
    facts: FileFacts,
    states: StateDir,
    on_bytes: Callable[[int], None],
    say: Callable[[str], None],
) -> None:
    """Send a file through a Cloud Storage resumable session, resuming a saved one.

    Raises:
        ApiError: the store refused the start or a chunk (a session it no longer knows, 404 or
            410, is forgotten: the next run opens a new one).
    """
    size = facts.size_bytes
    state = states.load(media_id, size)
    if state is None:
        start = offer["start"]
        opened = requests.post(start["url"], headers=start["headers"], timeout=TIMEOUT_SECONDS)
        if opened.status_code not in (200, 201) or "Location" not in opened.headers:
            raise _refused(opened, "opening the resumable session")
        state = SessionState(media_id, size, opened.headers["Location"])
        states.save(state)
    elif state.offset_bytes:
        say(f"resuming {facts.path.name} at byte {state.offset_bytes} of {size}")
    on_bytes(state.offset_bytes)
    chunk = int(offer["chunk_size_bytes"])
    with facts.path.open("rb") as handle:
        while True:
            offset = state.offset_bytes
            length = min(chunk, size - offset)
            answer = requests.put(
                state.session_uri,
                data=_SliceReader(handle, offset, length, on_bytes),
                headers={
                    "Content-Range": f"bytes {offset}-{offset + length - 1}/{size}",
                    "Content-Type": facts.mime_type,
                },
                timeout=TIMEOUT_SECONDS,
            )
            if answer.status_code in (200, 201):
                states.drop(media_id)
                return
            if answer.status_code in (404, 410):
                states.drop(media_id)
            if answer.status_code != 308:
                raise _refused(answer, f"chunk at byte {offset}")
            state.offset_bytes = confirmed_offset(answer.headers.get("Range"))
            states.save(state)


def _expiring(part: dict[str, Any]) -> bool:
    expires = datetime.fromisoformat(str(part["expires_at"]).replace("Z", "+00:00"))
    return expires - datetime.now(UTC) < REFRESH_MARGIN


def upload_s3(
    offer: dict[str, Any],
    facts: FileFacts,
    on_bytes: Callable[[int], None],
    say: Callable[[str], None],
    refresh: Callable[[], dict[str, Any]],
) -> None:
    """Send the parts an S3 multipart offer lists (the server completes the upload).

    Args:
        offer: the declaration's `resumable` body.
        facts: the file.
        on_bytes: progress callback (bytes sent, and once the bytes stored already).
        say: prints a line for people.
        refresh: replays the declaration and returns its `resumable` body (fresh part URLs).

    Raises:
        ApiError: the store refused a part.
    """
    if offer["received_bytes"]:
        say(
            f"resuming {facts.path.name}: {offer['received_bytes']} of {facts.size_bytes} bytes "
            f"stored in {len(offer['received_parts'])} parts"
        )
    on_bytes(int(offer["received_bytes"]))
    pending = [int(part["part_number"]) for part in offer["parts"]]
    parts = {int(part["part_number"]): part for part in offer["parts"]}
    with facts.path.open("rb") as handle:
        for number in pending:
            part = parts.get(number)
            if part is not None and _expiring(part):
                offer = refresh()
                parts = {int(p["part_number"]): p for p in offer["parts"]}
                part = parts.get(number)
            if part is None:
                continue  # stored meanwhile
            answer = requests.put(
                part["url"],
                data=_SliceReader(handle, part["offset_bytes"], part["size_bytes"], on_bytes),
                headers=part["headers"],
                timeout=TIMEOUT_SECONDS,
            )
            if answer.status_code >= 300:
                raise _refused(answer, f"part {number}")
