"""Files written whole or not at all: temporary name in the same directory, then rename."""

import os

import pytest

from accelsim import ConfigError, atomic


def test_write_text_writes_the_file_with_the_mode_open_gives_and_leaves_nothing_else(tmp_path):
    atomic.write_text(tmp_path / "a.txt", "héllo\n")
    with open(tmp_path / "b.txt", "w", encoding="utf-8") as f:
        f.write("plain")
    assert (tmp_path / "a.txt").read_bytes() == "héllo\n".encode()
    assert os.stat(tmp_path / "a.txt").st_mode == os.stat(tmp_path / "b.txt").st_mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_an_interrupt_mid_write_keeps_the_old_file_and_removes_the_temporary(tmp_path, error):
    target = tmp_path / "out.json"
    target.write_text("old\n")
    with pytest.raises(error), atomic.replacing(target) as temp:
        assert temp.parent == tmp_path and temp.name.startswith(".out.json.")
        temp.write_text("half of the new")
        raise error
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_a_directory_that_cannot_take_the_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(ConfigError, match=r"missing/x.txt: cannot write: No such file or directory$"):
        atomic.write_text(tmp_path / "missing" / "x.txt", "x")
    (tmp_path / "d").mkdir()
    with pytest.raises(ConfigError, match=r"/d: cannot write: Is a directory$"):
        atomic.write_text(tmp_path / "d", "x")
    assert [p.name for p in tmp_path.iterdir()] == ["d"] and list((tmp_path / "d").iterdir()) == []
