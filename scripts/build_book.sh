#!/usr/bin/env bash
# README command 1: set up, execute every chapter, build the HTML book.
#
#   scripts/build_book.sh            # then open _build/html/index.html
#   SERVE=1 scripts/build_book.sh    # ... and serve it on http://localhost:8000
#   SKIP_EXECUTE=1 scripts/build_book.sh   # build from the committed outputs only
#
# Executing runs each notebook in notebooks/ top to bottom and writes its outputs
# (and the widgets' state, which makes the sliders work in the web page) back into
# the file; the book is then built from those outputs with warnings as errors.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

if [ "${SKIP_EXECUTE:-0}" != "1" ]; then
    echo "== executing every chapter (scripts/execute_notebooks.py)"
    python scripts/execute_notebooks.py
fi

echo "== building the HTML book (jupyter-book build ., warnings are errors)"
rm -rf _build/html
jupyter-book build . -W --keep-going
echo "== building the Chinese edition into _build/html/zh/ (scripts/i18n.py build, same outputs)"
python scripts/i18n.py build

echo
echo "The book is ready: open $PWD/_build/html/index.html in a browser"
echo "(the Chinese edition: $PWD/_build/html/zh/index.html)."
PORT="${PORT:-8000}"
serve="${SERVE:-}"
if [ -z "$serve" ] && [ -t 0 ]; then
    read -r -p "Serve it on http://localhost:$PORT now? [y/N] " serve || true
fi
case "$serve" in
    1|y|Y|yes)
        echo "Serving on http://localhost:$PORT (Ctrl-C to stop)"
        exec python -m http.server "$PORT" --bind 127.0.0.1 --directory _build/html ;;
esac
