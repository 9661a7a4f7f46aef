"""A file that zipfile writes a streamed archive into (the case file, the submission export,
the Darwin Core Archive): it only appends, and the response takes what was written after
each chunk, so that an archive of any size is sent without being held whole."""

from __future__ import annotations

import io
from typing import Any


class ZipPipe(io.RawIOBase):
    """A write-only stream zipfile writes into; the response takes what was written."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._chunks.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks = []
        return data
