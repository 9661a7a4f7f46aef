"""odk_forms.storage: files are written and fsynced before their rows commit, and removed
when the block that wrote them fails."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from odk_forms import storage


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_files_written_in_a_block_stay_when_it_succeeds(media_root):
    with storage.new_files("submissions") as files:
        xml = files.write(".xml", b"<data/>")
        photo = files.write_inside("p.jpg", io.BytesIO(b"jpeg"))
        files.sync()
    assert files_under(media_root) == sorted([xml.name, photo.name])
    assert storage.read_bytes(photo.name) == b"jpeg"
    assert xml.size == 7


def test_a_failing_block_removes_what_it_wrote(media_root):
    with pytest.raises(RuntimeError), storage.new_files("submissions") as files:
        files.write(".xml", b"<data/>")
        files.write_inside("p.jpg", b"jpeg")
        raise RuntimeError("the rows did not commit")
    assert files_under(media_root) == []


def test_kept_files_stay_when_the_block_fails(media_root):
    with pytest.raises(RuntimeError), storage.new_files("submissions") as files:
        xml = files.write(".xml", b"<data/>")
        files.keep()
        raise RuntimeError("refused, and recorded as such")
    assert files_under(media_root) == [xml.name]


class Broken(io.RawIOBase):
    """An upload whose client goes away after the first chunk."""

    def __init__(self) -> None:
        self.sent = False

    def readable(self) -> bool:
        return True

    def seek(self, *args: object) -> int:
        return 0

    def read(self, size: int = -1) -> bytes:
        if self.sent:
            raise OSError("connection reset")
        self.sent = True
        return b"x" * 10


def test_a_file_cut_short_is_not_left_behind(media_root):
    with pytest.raises(OSError), storage.new_files("submissions") as files:
        files.write_inside("p.jpg", b"jpeg")
        files.write(".xml", Broken())  # type: ignore[arg-type]
    assert files_under(media_root) == []
