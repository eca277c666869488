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

# The pinned Node packages of the Prisma round-trip test (tests/prisma), installed with
# `npm ci` only when package-lock.json (or the Node version) changed. Install scripts are
# skipped: none is needed, and Prisma's would try to download engines from hosts we cannot reach.
ensure_node_modules() {
    local dir="$1"
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        echo "error: Node.js (20.19+, 22.12+ or 24+) and npm are needed for $dir (the Prisma round-trip test)" >&2
        exit 2
    fi
    if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
                  process.exit(a >= 24 || (a === 22 && b >= 12) || (a === 20 && b >= 19) ? 0 : 1)'; then
        echo "error: Node.js $(node --version) is not supported by Prisma 7 in $dir (need 20.19+, 22.12+ or 24+)" >&2
        exit 2
    fi
    local stamp="$dir/node_modules/.installed-lock"
    local want
    want=$(sha256sum < "$dir/package-lock.json" | cut -d" " -f1)-$(node --version)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
        echo "$want" > "$stamp"
    fi
}
