"""Durable writes under MEDIA_ROOT: a file is fsynced, and so is its directory, before the
database row that points to it commits. A crash after the answer to the phone then loses
nothing; a crash before it leaves at worst an orphan file and the phone sends again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from django.conf import settings

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    name: str  # relative to MEDIA_ROOT, as FileFields store it
    size: int
    md5: str
    sha256: str


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def new_upload_base(kind: str) -> str:
    """A fresh, unique name stem (relative to MEDIA_ROOT) for one upload:
    kind/yyyy/mm/dd/<random>. The day directory exists on return."""
    now = datetime.now(UTC)
    day = f"{kind}/{now:%Y/%m/%d}"
    (media_root() / day).mkdir(parents=True, exist_ok=True)
    return f"{day}/{secrets.token_hex(12)}"


def make_directory(relative_dir: str) -> None:
    (media_root() / relative_dir).mkdir(parents=True, exist_ok=True)


def write_chunks(relative_name: str, chunks: Iterable[bytes]) -> StoredFile:
    path = media_root() / relative_name
    md5, sha256, size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
    # O_EXCL: each upload gets its own directory, so an existing file is a bug, not a retry.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
            md5.update(chunk)
            sha256.update(chunk)
            size += len(chunk)
        out.flush()
        if settings.ODK_FORMS_FSYNC:
            os.fsync(out.fileno())
    return StoredFile(relative_name, size, md5.hexdigest(), sha256.hexdigest())


def write_bytes(relative_name: str, data: bytes) -> StoredFile:
    return write_chunks(relative_name, [data])


def write_upload(relative_name: str, upload: IO[bytes]) -> StoredFile:
    upload.seek(0)
    return write_chunks(relative_name, iter(lambda: upload.read(CHUNK), b""))


def sync_directory(relative_dir: str) -> None:
    """fsync a directory and its parent so the new entries survive a power cut."""
    if not settings.ODK_FORMS_FSYNC:
        return
    path = media_root() / relative_dir
    for directory in (path, path.parent):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_directory(relative_dir: str) -> None:
    shutil.rmtree(media_root() / relative_dir, ignore_errors=True)


def remove_file(relative_name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        (media_root() / relative_name).unlink()


def read_bytes(relative_name: str) -> bytes:
    return (media_root() / relative_name).read_bytes()


def open_file(relative_name: str) -> IO[bytes]:
    return (media_root() / relative_name).open("rb")


@dataclass
class NewFiles:
    """The files of one upload, under one fresh name stem (`base`): `<base>.<ext>` beside
    the stem and `<base>/<name>` inside a directory of its own, created when needed."""

    base: str
    written: list[StoredFile] = field(default_factory=list)
    has_directory: bool = False
    kept: bool = False

    def write(self, suffix: str, content: bytes | IO[bytes]) -> StoredFile:
        """Write `<base><suffix>` (".xml", ".source.xlsx"), bytes or a file from its start."""
        return self._write(f"{self.base}{suffix}", content)

    def write_inside(self, name: str, content: bytes | IO[bytes]) -> StoredFile:
        """Write `<base>/<name>` (an attachment, a media file)."""
        if not self.has_directory:
            make_directory(self.base)
            self.has_directory = True
        return self._write(f"{self.base}/{name}", content)

    def _write(self, relative_name: str, content: bytes | IO[bytes]) -> StoredFile:
        try:
            if isinstance(content, bytes):
                stored = write_bytes(relative_name, content)
            else:
                stored = write_upload(relative_name, content)
        except FileExistsError:
            raise  # not ours to remove
        except BaseException:
            # A file cut short (a full disk, a client gone mid-upload) is not kept either.
            remove_file(relative_name)
            raise
        self.written.append(stored)
        return stored

    def sync(self) -> None:
        """fsync the directory entries of everything written: call before the rows commit."""
        sync_directory(self.base if self.has_directory else self.base.rsplit("/", 1)[0])

    def keep(self) -> None:
        """Keep the files although the block fails (a refusal that is recorded, a busy
        database): someone will read them again."""
        self.kept = True

    def remove(self) -> None:
        for stored in self.written:
            remove_file(stored.name)
        remove_directory(self.base)

    # A class rather than contextlib.contextmanager: that one sets __traceback__ on the
    # exception it re-raises, which fieldkit.errors.Problem (frozen) refuses.
    def __enter__(self) -> NewFiles:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is not None and not self.kept:
            self.remove()


def new_files(kind: str) -> NewFiles:
    """Write files, fsync them, commit the rows that point to them; on failure, clean up.

    Used as `with storage.new_files("submissions") as files:`. The block writes its files
    through `files`, calls `files.sync()`, then commits its rows. An exception anywhere in
    the block removes every file written (unless `files.keep()` was called) and
    propagates: no row points to them, as the rows' transaction rolled back. A crash
    between sync and commit leaves at worst orphan files."""
    return NewFiles(new_upload_base(kind))
