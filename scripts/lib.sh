# Shared by scripts/run and scripts/test: a .venv with the pinned requirements, rebuilt only
# when the requirements change.
set -euo pipefail

ensure_venv() {
    local requirements="$1"
    local python="${PYTHON:-python3}"
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "error: Python 3.11 or newer is needed as '$python' (set PYTHON=/path/to/python3.11)" >&2
        exit 2
    fi
    if [ ! -x .venv/bin/python ]; then
        "$python" -m venv .venv
    fi
    local stamp=.venv/.installed-requirements
    local want
    want=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)-$requirements
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
        echo "$want" > "$stamp"
    fi
}
