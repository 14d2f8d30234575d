"""run.sh as a new user meets it (issue 13): a normal (non-root) user, a fresh clone, a
half-made venv, no sudo, /sbin off the PATH, paths given from the user's own folder.

As root (CI), the test makes a normal user (``useradd``) and runs run.sh as that user;
as a normal user it runs as itself. pip installs from a wheelhouse repacked from the
running environment (``tests/install/wheelhouse.py``): offline, no download.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.fixtures.videos import write_video

USER = "flatbackci"
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"  # a normal Debian user's PATH: no /sbin, no pyenv shims


def as_user(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run ``argv`` as the test user (root: via runuser), with exactly ``env``."""
    pre = ["runuser", "-u", USER, "--"] if os.geteuid() == 0 else []
    return subprocess.run([*pre, "env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def user_home() -> Path:
    if os.geteuid() != 0:
        return Path.home()
    if subprocess.run(["id", "-u", USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", USER], check=True)
    return Path(f"/home/{USER}")


@pytest.fixture(scope="module")
def place(user_home) -> Path:
    """A world-readable scratch folder owned by the test user (pytest's own is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="flatback-setup-"))
    folder.chmod(0o755)
    yield folder
    # about 2.5 GB of small files (wheelhouse, clone, venv): removed in the background, not waited for
    subprocess.Popen(["rm", "-rf", str(folder)], start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def chown_to_user(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", f"{USER}:{USER}", str(path)], check=True)


def fake_bin(folder: Path, **scripts: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in scripts.items():
        f = folder / name
        f.write_text("#!/bin/sh\n" + body + "\n")
        f.chmod(f.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return folder


def run_sh_copy(place: Path) -> Path:
    """run.sh alone, where the test user can read it (the checkout may be in root's home)."""
    copy = place / "alone" / "run.sh"
    copy.parent.mkdir(exist_ok=True)
    shutil.copy(ROOT / "run.sh", copy)
    chown_to_user(copy.parent)
    return copy


def user_env(home: Path, path: str, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), "PATH": path, "LANG": "C.UTF-8", "PIP_CONFIG_FILE": os.devnull, **extra}


def test_setup_as_a_normal_user_in_a_fresh_clone(place, user_home, demo):
    """Fresh clone, half-made venv (Debian's no-ensurepip case), analyse from the video's folder."""
    from tests.install.wheelhouse import build_wheelhouse

    t0 = time.monotonic()
    wheels = place / "wheels"
    build_wheelhouse(wheels)
    clone = place / "flatback"
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", "--detach", head], check=True)
    videos = place / "my videos"  # the user's own folder, with a space in its name
    videos.mkdir()
    _, _, keypoints = demo
    shutil.copy(keypoints, videos / "set1.npz")
    rng = __import__("numpy").random.default_rng(0)
    write_video(videos / "nobody.mp4", [rng.integers(0, 255, (120, 160, 3), dtype="uint8") for _ in range(30)])
    trap = fake_bin(place / "trap", sudo=f"echo called > {place / 'trap' / 'sudo-called'}; exit 1")
    chown_to_user(place)
    # a venv left half-made: what `python3 -m venv` leaves on Debian without python3-venv
    made = as_user(["python3.11", "-m", "venv", "--without-pip", str(clone / ".venv")], user_env(user_home, SAFE_PATH), place)
    assert made.returncode == 0, made.stderr
    t_prepared = time.monotonic() - t0

    env = user_env(user_home, f"{trap}:{SAFE_PATH}", PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels),
                   PIP_NO_CACHE_DIR="1", PIP_NO_COMPILE="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    first = as_user(["bash", str(clone / "run.sh"), "analyze", "set1.npz", "-o", "out", "-q", "--no-video"], env, videos)
    t_installed = time.monotonic() - t0 - t_prepared
    assert first.returncode == 0, first.stdout + first.stderr
    assert "repairing" in first.stderr and "installing flatback and its Python packages" in first.stderr, first.stderr
    assert (videos / "out" / "report.json").is_file()  # -o is the user's folder, not the clone's
    assert not (clone / "out").exists()
    assert not (place / "trap" / "sudo-called").exists()  # nothing needed sudo: libGL was found via /sbin/ldconfig
    listed = as_user([str(clone / ".venv" / "bin" / "python"), "-m", "pip", "list"], env, videos).stdout.lower()
    assert "mediapipe" in listed and "pytest" not in listed and "selenium" not in listed  # analyze installs no test deps
    assert (clone / ".venv" / ".flatback-installed-main").is_file()

    second = as_user(["bash", str(clone / "run.sh"), "analyze", "nobody.mp4", "-q"], env, videos, timeout=300)
    assert second.returncode == 4 and "No person found" in second.stderr, second.stderr  # the pose model ran
    assert "installing" not in second.stderr and "Traceback" not in second.stderr
    assert not (videos / "nobody_flatback").exists()
    print(f"set-up as {USER if os.geteuid() == 0 else 'self'}: wheelhouse and clone {t_prepared:.0f} s, "
          f"first run (install + analyse) {t_installed:.0f} s")


def test_missing_libraries_without_root_say_what_to_install(place, user_home):
    """No libGL (a fake ldconfig says so) and no root: one clear instruction, exit 1, no apt-get run."""
    bin_ = fake_bin(place / "nolibgl", ldconfig="exit 0", sudo="exit 1",
                    **{"apt-get": f"echo ran > {place / 'nolibgl' / 'apt-ran'}; exit 1"})
    chown_to_user(place / "nolibgl")
    run = as_user(["bash", str(run_sh_copy(place)), "analyze", "x.mp4"], user_env(user_home, f"{bin_}:{SAFE_PATH}"), place)
    assert run.returncode == 1, run.stderr
    assert "libgl1 libglib2.0-0" in run.stderr and "apt-get install libgl1 libglib2.0-0" in run.stderr
    assert "Traceback" not in run.stderr


def test_another_python_says_how_to_get_311(place, user_home):
    """Only a Python 3.12 on the PATH: run.sh names the version it found and how to get 3.11."""
    bin_ = place / "py312"
    fake_bin(bin_, ldconfig="echo libGL.so.1 libgthread-2.0.so.0",
             python3='case "$2" in *exit*) exit 1;; *) echo 3.12;; esac')
    for tool in ("dirname", "grep", "id", "sha1sum", "cut", "cat", "env"):
        (bin_ / tool).symlink_to(shutil.which(tool))
    chown_to_user(bin_)
    run = as_user(["/bin/bash", str(run_sh_copy(place)), "analyze", "x.mp4"], user_env(user_home, str(bin_)), place)
    assert run.returncode == 1, run.stderr
    assert "needs Python 3.11" in run.stderr and "python3 is 3.12" in run.stderr
    assert "python3.11-venv" in run.stderr and "PYTHON=" in run.stderr


def test_a_postgresql_that_cannot_start_is_reported(place, user_home):
    """run.sh's PostgreSQL start says why it failed (it used to return 0 and say nothing)."""
    bin_ = fake_bin(place / "pgdown", sudo="exit 1", pg_ctlcluster="exit 1",
                    pg_lsclusters='echo "15 main 5432 down postgres /var/lib/postgresql/15/main /var/log/pg.log"')
    functions = (ROOT / "run.sh").read_text().split("\ncmd=${1:-}")[0]  # everything but the command dispatch
    script = place / "pgdown" / "check.sh"
    script.write_text(functions + '\npostgres_for_tests\necho "url=${FLATBACK_TEST_PG_URL:-none}"\n')
    chown_to_user(place / "pgdown")
    run = as_user(["bash", str(script)], user_env(user_home, f"{bin_}:{SAFE_PATH}"), place)
    assert run.returncode == 0 and "url=none" in run.stdout, run.stderr
    assert "no PostgreSQL server:" in run.stderr and "pg_ctlcluster 15 main start" in run.stderr
    assert "will be skipped (in CI: they fail)" in run.stderr
