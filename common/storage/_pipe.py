"""A sink written from a thread of its own, so a reader and the sink's work overlap."""

from __future__ import annotations

import queue
import threading
from types import TracebackType

from common.storage.base import Writable


class SinkThread:
    """Writes blocks to `sink` from a thread of its own, in order, at most `queued` blocks behind
    the caller; leaving the `with` block waits for every write and raises the first error the
    sink raised (unless the block itself raised).

    Args:
        sink: what the blocks are written to.
        queued: blocks that may wait for the sink (the caller waits beyond that).
    """

    def __init__(self, sink: Writable, queued: int) -> None:
        self._sink = sink
        self._blocks: queue.Queue[bytes | None] = queue.Queue(maxsize=queued)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="storage-sink", daemon=True)

    def __enter__(self) -> SinkThread:
        self._thread.start()
        return self

    def _run(self) -> None:
        while (block := self._blocks.get()) is not None:
            if self._error is None:
                try:
                    self._sink.write(block)
                except BaseException as exc:
                    self._error = exc

    def write(self, block: bytes) -> None:
        """Queue `block` (waits while `queued` blocks are pending).

        Raises:
            BaseException: what the sink raised on an earlier block.
        """
        if self._error is not None:
            raise self._error
        self._blocks.put(block)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._blocks.put(None)
        self._thread.join()
        if self._error is not None and exc_type is None:
            raise self._error
