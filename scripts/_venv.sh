# Sourced by scripts/run and scripts/test: make sure .venv exists and has what they need.
#   ensure_venv                  # runtime: requirements.txt (scripts/run)
#   ensure_venv requirements-dev.txt   # runtime + tests and tools (scripts/test)
# Reinstalls only when a file it installs changed: the hash of requirements.txt (and of the dev
# file, which includes it with -r) is kept in .venv/.<file>.sha256.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "Flowkey needs Python 3.11 or newer (set PYTHON=/path/to/python3.11 if it is not on PATH)." >&2
    return 1
}

ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        local python
        python="$(find_python)"
        echo "Creating $VENV with $python ..."
        "$python" -m venv "$VENV"
    fi
    local file="${1:-requirements.txt}" wanted stamp
    stamp="$VENV/.${file%.txt}.sha256"
    wanted="$("$VENV/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(b"".join(open(f, "rb").read() for f in sys.argv[1:])).hexdigest())' "$ROOT/requirements.txt" "$ROOT/$file")"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
        echo "Installing $file into .venv ..."
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/$file"
        echo "$wanted" >"$stamp"
    fi
    export PATH="$VENV/bin:$PATH"
    export FLASK_APP=wsgi.py
    export FLASK_SKIP_DOTENV=1  # .flaskenv is for people with python-dotenv; we set FLASK_APP here
    cd "$ROOT"
}
