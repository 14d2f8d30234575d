#!/usr/bin/env bash
# flatback's two commands on a fresh machine:
#   ./run.sh analyze VIDEO [options]   set everything up (first time only), then analyse VIDEO
#   ./run.sh test                      set everything up (first time only), then run the tests
# Anything else is passed to the flatback command: ./run.sh config --dump
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

apt_install() {  # apt_install PACKAGE... : Debian packages, when apt is there and they are missing
    command -v apt-get >/dev/null 2>&1 || return 0
    echo "flatback setup: installing $* (Debian)" >&2
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

setup() {
    # OpenCV (inside mediapipe) needs libGL and glib from Debian.
    if ! ldconfig -p 2>/dev/null | grep -q 'libGL.so.1'; then
        apt_install libgl1 libglib2.0-0
    fi
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
        echo "flatback setup: Python 3.11 is needed (mediapipe 0.10.21); set PYTHON=/path/to/python3.11" >&2
        exit 1
    fi
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    stamp="$VENV/.flatback-installed"
    want=$(sha1sum pyproject.toml | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "flatback setup: installing Python packages into $VENV (first run only)" >&2
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -e '.[test]'
        echo "$want" > "$stamp"
    fi
}

as_postgres() {  # run a command as the postgres system user
    if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sudo -u postgres sh -c "$*"; fi
}

setup_postgres() {
    # The training-log tests run against a real PostgreSQL server on this machine.
    [ -n "${FLATBACK_TEST_PG_URL:-}" ] && return 0
    command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql || return 0
    command -v pg_lsclusters >/dev/null 2>&1 || return 0
    version=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1}')
    [ -n "$version" ] || return 0
    if ! pg_lsclusters -h | awk 'NR==1 {print $4}' | grep -q online; then
        pg_ctlcluster "$version" main start || return 0
    fi
    port=$(pg_lsclusters -h | awk 'NR==1 {print $3}')
    as_postgres "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='flatback'\" | grep -q 1 || psql -qc \"CREATE ROLE flatback LOGIN PASSWORD 'flatback'\"" >/dev/null
    as_postgres "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='flatback_test'\" | grep -q 1 || createdb -O flatback flatback_test" >/dev/null
    export FLATBACK_TEST_PG_URL="postgresql://flatback:flatback@127.0.0.1:${port}/flatback_test"
}

cmd=${1:-}
case "$cmd" in
    test)
        shift
        setup
        # the report is tested in a real browser: Debian's chromium and its driver
        if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
            apt_install chromium chromium-driver
        fi
        setup_postgres || echo "flatback setup: no PostgreSQL server; its tests will be skipped" >&2
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    "")
        echo "usage: ./run.sh analyze VIDEO [-o OUTDIR] | ./run.sh test | ./run.sh --help" >&2
        exit 2
        ;;
    *)
        setup
        exec "$VENV/bin/flatback" "$@"
        ;;
esac
