"""The output folder: refused before training if it cannot be written, and locked to one run,
with a lock that a killed run does not leave behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from minigan.training.run_dir import LOCK_NAME, RunDirError, RunLock, check_writable

ROOT = Path(__file__).resolve().parents[2]
HOLD = (
    "import sys, time\n"
    "from minigan.training.run_dir import RunLock\n"
    "RunLock(sys.argv[1]).acquire()\n"
    "print('locked', flush=True)\n"
    "time.sleep(120)\n"
)


@pytest.fixture
def holder(tmp_path):
    """Another process holding the lock on ``tmp_path / "run"``; killed (SIGKILL) at the end."""
    folder = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout.readline() == "locked\n"
    yield folder, process
    process.kill()
    process.wait(timeout=30)


def test_check_writable_creates_the_folder_and_leaves_nothing_in_it(tmp_path):
    folder = check_writable(tmp_path / "a" / "b")
    assert folder.is_dir() and list(folder.iterdir()) == []


@pytest.mark.parametrize("make", ["a file in its place", "a file in its parent's place"])
def test_a_folder_that_cannot_be_created_is_one_run_dir_error(tmp_path, make):
    (tmp_path / "taken").write_text("")
    folder = tmp_path / "taken" if make == "a file in its place" else tmp_path / "taken" / "out"
    with pytest.raises(RunDirError, match=rf"^{folder}: the output folder cannot be written \(.+\)$"):
        check_writable(folder)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_one_run_dir_error(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(RunDirError, match=r"the output folder cannot be written \(Permission denied\)"):
            check_writable(tmp_path)
    finally:
        tmp_path.chmod(0o700)


def test_a_second_run_on_a_locked_folder_is_refused_naming_the_first_runs_process(holder):
    folder, process = holder
    with pytest.raises(RunDirError) as error:
        RunLock(folder).acquire()
    message = str(error.value)
    assert message.startswith(f"{folder}: another minigan run is writing to this folder (process {process.pid}, ")
    assert "\n" not in message
    assert (folder / LOCK_NAME).read_text() == f"{process.pid}\n"  # the refused run left the lock alone


def test_the_lock_of_a_killed_run_is_taken_over(holder):
    folder, process = holder
    process.kill()
    process.wait(timeout=30)
    assert (folder / LOCK_NAME).read_text() == f"{process.pid}\n"  # SIGKILL left the file behind
    with RunLock(folder):
        assert (folder / LOCK_NAME).read_text() == f"{os.getpid()}\n"


def test_the_lock_is_released_on_leaving_the_block_even_by_an_exception(tmp_path):
    with pytest.raises(KeyError), RunLock(tmp_path) as lock:
        assert lock.path.read_text() == f"{os.getpid()}\n"
        with pytest.raises(RunDirError, match=f"process {os.getpid()}"):
            RunLock(tmp_path).acquire()  # one folder, one run, even within a process
        raise KeyError("the run failed")
    assert not (tmp_path / LOCK_NAME).exists()
    with RunLock(tmp_path):
        pass


def test_locking_checks_the_folder_is_writable_first(tmp_path):
    (tmp_path / "taken").write_text("")
    with pytest.raises(RunDirError, match="the output folder cannot be written"):
        RunLock(tmp_path / "taken").acquire()


def test_a_run_that_wrote_nothing_leaves_no_folder_it_created_behind(tmp_path):
    (tmp_path / "kept").mkdir()
    for folder in (tmp_path / "new" / "deeper", tmp_path / "kept"):
        with RunLock(folder):
            assert (folder / LOCK_NAME).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]  # "new" and "new/deeper" removed, "kept" kept
    with RunLock(tmp_path / "run"):
        (tmp_path / "run" / "history.csv").write_text("step\n")
    assert (tmp_path / "run" / "history.csv").is_file()  # a folder the run wrote to stays
