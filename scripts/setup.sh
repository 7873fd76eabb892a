#!/usr/bin/env bash
# Create .venv with everything the course, the tests and the browser checks need.
# Idempotent: a second run only re-installs when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=.venv

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi

# pip, minus the notes some machines print for every package about missing local mirrors
pip_install() {
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "$@" 2>&1 |
        { grep -v "is ignored: it is neither a file nor a directory" || true; }
}

stamp=.venv/.setup-stamp
want="$(sha256sum pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    # torch first, pinned: a bare "torch" requirement on a machine with no torch pulls a
    # multi-GB CUDA build; 2.13.0 is the CPU build this course is tested with.
    pip_install "torch==2.13.0"
    pip_install -e ".[dev]"
    echo "$want" > "$stamp"
fi

# The browser tests use Debian's Chromium (never a browser a tool downloads by itself).
if [ ! -x /usr/bin/chromium ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    else
        echo "note: /usr/bin/chromium not found; browser tests will be skipped" \
             "(install Debian's 'chromium' package to run them)." >&2
    fi
fi
echo "environment ready: $VENV"
