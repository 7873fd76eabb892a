"""Files written whole, with the usual permissions, and never over someone's edits."""

from __future__ import annotations

import os
import stat

import pytest

from attention_lab.files import check_folder, write_atomic, write_files


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_gets_0666_less_the_umask(tmp_path, umask_022):
    write_atomic(tmp_path / "a.csv", "x")
    assert mode(tmp_path / "a.csv") == 0o644
    os.umask(0o077)
    write_atomic(tmp_path / "private.csv", b"x")
    assert mode(tmp_path / "private.csv") == 0o600


def test_a_replaced_file_keeps_its_mode(tmp_path, umask_022):
    path = tmp_path / "book.csv"
    path.write_text("old")
    path.chmod(0o664)
    write_atomic(path, "new")
    assert path.read_text() == "new" and mode(path) == 0o664


def test_a_failed_rename_leaves_no_temporary_file(tmp_path):
    (tmp_path / "adir").mkdir()
    with pytest.raises(IsADirectoryError):
        write_atomic(tmp_path / "adir", "x")
    assert [p.name for p in tmp_path.iterdir()] == ["adir"]
    assert list((tmp_path / "adir").iterdir()) == []


def test_write_files_writes_new_skips_identical_and_keeps_edited(tmp_path):
    same, edited, new = tmp_path / "same.md", tmp_path / "edited.md", tmp_path / "sub" / "new.md"
    same.write_text("fresh")
    edited.write_text("my edits")
    files = {same: "fresh", edited: "fresh", new: "fresh"}
    done = write_files(files)
    assert (done.written, done.unchanged, done.kept) == ([new], [same], [edited])
    assert edited.read_text() == "my edits" and new.read_text() == "fresh"
    assert f"  {edited}" in done.summary() and done.summary()[-1].endswith("--force")
    done = write_files(files, force=True)
    assert done.written == [edited] and edited.read_text() == "fresh"


def test_check_folder_names_the_file_in_the_way(tmp_path):
    (tmp_path / "keep.txt").write_text("keep")
    check_folder("out", tmp_path / "new" / "site")  # absent folders are fine
    with pytest.raises(ValueError, match=r"out: expected a folder, got the file '.*keep.txt'$"):
        check_folder("out", tmp_path / "keep.txt")
    with pytest.raises(ValueError, match=r"keep.txt' \(needed for '.*keep.txt/site'\)"):
        check_folder("out", tmp_path / "keep.txt" / "site")
