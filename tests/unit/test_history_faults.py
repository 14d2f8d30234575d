"""The training log under faults: every failure is exit code 6 and one line; concurrent
saves both land; a save killed at any point leaves a consistent log (issue 13)."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from flatback.cli import app
from flatback.log.history import HistoryError, TrainingLog
from flatback.outputs.report import Report
from flatback.pipeline import Analyzer
from flatback.simulate import demo_clip
from tests.conftest import ROOT, postgres_url_or_skip

runner = CliRunner()


@pytest.fixture(scope="module")
def report():
    return Report.from_result(Analyzer().analyze_track(demo_clip().track))


@pytest.fixture(scope="module")
def report_file(report, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.json"
    path.write_text(report.model_dump_json())
    return path


def assert_one_line_failure(result, code: int = 6, *words: str) -> None:
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("flatback: error:"), result.output
    assert "Traceback" not in result.output
    for w in words:
        assert w in result.output, result.output


def corrupt_db(tmp_path: Path) -> str:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"SQLite format 3\x00" + random.Random(0).randbytes(8192))
    return f"sqlite:///{path}"


def not_a_db(tmp_path: Path) -> str:
    path = tmp_path / "notes.db"
    path.write_text("my training notes\n" * 300)
    return f"sqlite:///{path}"


def under_a_file(tmp_path: Path) -> str:
    (tmp_path / "file").write_text("x")
    return f"sqlite:///{tmp_path / 'file' / 'history.db'}"


BAD = {  # name -> (url maker, words the message must hold)
    "unwritable_folder": (lambda p: "sqlite:////proc/flatback-nope/history.db", ["Cannot open the training log"]),
    "folder_under_a_file": (under_a_file, ["is a file, not a folder"]),
    "a_folder_not_a_file": (lambda p: f"sqlite:///{p}", ["unable to open database file"]),
    "not_a_url": (lambda p: "my history", ["not a database URL"]),
    "mysql": (lambda p: "mysql://me:secret@localhost/log", ["'mysql' is not supported", "***"]),
    "oracle": (lambda p: "oracle+cx_oracle://me@db/log", ["not supported"]),
    "postgres_driver_missing": (lambda p: "postgresql+psycopg2://me@localhost/log", ["not supported"]),
    "corrupt_sqlite": (corrupt_db, ["damaged"]),
    "text_file_as_db": (not_a_db, ["file is not a database"]),
    "postgresql_down": (lambda p: "postgresql://me:secret@127.0.0.1:1/log", ["Connection refused", "***"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("command", [["history"], ["plan"], ["log", "--pain"]])
def test_every_log_failure_is_exit_6_in_one_line(case, command, tmp_path):
    make, words = BAD[case]
    url = make(tmp_path)
    result = runner.invoke(app, [*command, "--db", url])
    assert_one_line_failure(result, 6, *words)
    assert "secret" not in result.output  # the password is not printed


def test_analyze_save_to_a_bad_log_fails_before_analysing(demo, tmp_path):
    _, _, keypoints = demo
    out = tmp_path / "out"
    result = runner.invoke(app, ["analyze", str(keypoints), "-o", str(out), "-q", "--no-video", "--save",
                                 "--db", "mysql://me@localhost/log"])
    assert_one_line_failure(result, 6, "not supported")
    assert not out.exists()


def test_a_locked_sqlite_log_is_exit_6(tmp_path, report):
    path = tmp_path / "history.db"
    TrainingLog(f"sqlite:///{path}").add_set(report)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
    try:
        result = runner.invoke(app, ["log", "--pain", "--db", f"sqlite:///{path}?timeout=0.3"])
        assert_one_line_failure(result, 6, "locked", "try again")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert runner.invoke(app, ["log", "--pain", "--db", f"sqlite:///{path}"]).exit_code == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write any file; the unwritable folder is tested via /proc")
def test_a_read_only_log_reads_but_does_not_save(tmp_path, report):
    path = tmp_path / "history.db"
    TrainingLog(f"sqlite:///{path}").add_set(report)
    path.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        assert runner.invoke(app, ["plan", "--db", f"sqlite:///{path}"]).exit_code == 0
        assert_one_line_failure(runner.invoke(app, ["log", "--pain", "--db", f"sqlite:///{path}"]), 6, "readonly")
    finally:
        tmp_path.chmod(0o755)


def test_history_plot_to_an_unwritable_place_is_exit_5(tmp_path, report):
    url = f"sqlite:///{tmp_path / 'history.db'}"
    TrainingLog(url).add_set(report)
    result = runner.invoke(app, ["history", "--db", url, "--plot", "/proc/flatback-nope/progress.png"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 5 and "Cannot write the plot" in result.output and "Traceback" not in result.output


def test_library_callers_get_history_error(tmp_path):
    with pytest.raises(HistoryError, match="not supported"):
        TrainingLog("mysql://localhost/x")


# --- several processes ---------------------------------------------------------------

SAVER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from flatback.outputs.report import Report
    from flatback.log.history import TrainingLog
    url, report_path, go, n = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    report = Report.model_validate_json(Path(report_path).read_text())
    while not go.exists():
        time.sleep(0.005)
    log = TrainingLog(url)  # a new log: both processes migrate it at once
    for _ in range(n):
        log.add_set(report)
        print("saved", flush=True)
""")


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")])
    return env


def count_rows(url: str) -> tuple[int, int, int, list[tuple[int, int]]]:
    """(sessions, sets, reps, [(set rep_count, its rep rows)])."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as c:
        sessions = c.execute(text("SELECT count(*) FROM sessions")).scalar()
        sets = c.execute(text("SELECT count(*) FROM sets")).scalar()
        reps = c.execute(text("SELECT count(*) FROM reps")).scalar()
        per_set = c.execute(text(
            "SELECT s.rep_count, (SELECT count(*) FROM reps r WHERE r.set_id = s.id) FROM sets s")).all()
    engine.dispose()
    return sessions, sets, reps, [tuple(r) for r in per_set]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_saving_at_once_both_land(backend, tmp_path, report, report_file):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'history.db'}"
    else:
        from tests.unit.test_history import fresh_postgres

        url = fresh_postgres(postgres_url_or_skip())
    go = tmp_path / "go"
    n = 5
    procs = [subprocess.Popen([sys.executable, "-c", SAVER, url, str(report_file), str(go), str(n)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
             for _ in range(2)]
    time.sleep(0.3)
    go.touch()
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.count("saved") == n
    sessions, sets, reps, per_set = count_rows(url)
    assert sets == 2 * n and reps == 2 * n * report.rep_count
    assert sessions == 1  # saved within minutes of each other: one session, not one per process
    assert all(a == b for a, b in per_set)


def save_until_killed(url: str, report) -> tuple[int, int]:
    """Fork a child that saves sets in a loop until it is killed, writing a byte to the
    returned pipe after each save; returns (pid, read end). (Forked, not started afresh,
    so a kill costs milliseconds rather than a Python start-up.)"""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read)
            os.write(write, b"r")
            while True:
                TrainingLog(url).add_set(report)
                os.write(write, b"s")
        finally:
            os._exit(1)
    os.close(write)
    assert os.read(read, 1) == b"r"
    return pid, read


def test_a_save_killed_at_random_points_leaves_the_log_consistent(tmp_path, report, demo):
    """SIGKILL many times at random moments of saving (creating, migrating, writing,
    committing), and a few real ``flatback analyze --save`` runs; after each kill the log
    opens, passes SQLite's integrity check, and every stored set has all its reps."""
    url = f"sqlite:///{tmp_path / 'history.db'}"
    db = tmp_path / "history.db"
    rng = random.Random(13)
    kills, most_sets = 0, 0
    for round_ in range(30):
        if round_ % 6 == 0:  # some rounds start from no log at all: kill during creation and migration
            for f in tmp_path.glob("history.db*"):
                f.unlink()
        pid, saved = save_until_killed(url, report)
        for _ in range(rng.randrange(3)):  # let 0-2 saves finish (whatever the machine's load), then kill
            assert os.read(saved, 1) == b"s"
        time.sleep(rng.uniform(0.0, 0.06))  # at a random point of the next save
        os.kill(pid, signal.SIGKILL)
        os.close(saved)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status), "the saver stopped by itself: it failed"
        kills += 1
        most_sets = max(most_sets, assert_consistent(url, report.rep_count))
    _, _, keypoints = demo
    for _ in range(2):  # the real command on a new log, killed while it creates the log (before analysing)
        for f in tmp_path.glob("history.db*"):
            f.unlink()
        p = subprocess.Popen([sys.executable, "-m", "flatback.cli", "analyze", str(keypoints), "--no-video", "-q",
                              "-o", str(tmp_path / "out"), "--save", "--db", url],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env())
        deadline = time.monotonic() + 60
        while not db.exists() and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0.0, 0.1))
        p.send_signal(signal.SIGKILL)
        p.wait()
        kills += 1
        assert_consistent(url, report.rep_count)
    assert kills == 32
    assert most_sets > 0  # saves landed between the kills, and survived them


def assert_consistent(url: str, rep_count: int) -> int:
    """Check the log after a kill; returns how many sets it holds."""
    path = url.removeprefix("sqlite:///")
    if not Path(path).exists():
        return 0  # killed before the file was made: nothing to check
    TrainingLog(url).summaries()  # opens (and recovers the journal), migrates, reads
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
    _, sets, reps, per_set = count_rows(url)
    assert reps == sets * rep_count and all(a == b for a, b in per_set)
    return sets
