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

cmd=${1:-}
case "$cmd" in
    test)
        shift
        setup
        # the report is tested in a real browser: Debian's chromium and its driver
        if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
            apt_install chromium chromium-driver
        fi
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
