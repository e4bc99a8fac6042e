#!/usr/bin/env bash
# README command 2: every check. `.ci/run` calls this and nothing else.
#   1. unit tests                        pytest tests/
#   2. every notebook, strict            pytest --nbval (a fresh run must print what is committed:
#                                        this is also the repeatability check, see CONTRIBUTING.md)
#   3. the book, warnings as errors      jupyter-book build . -W --keep-going
#   4. the built book in a browser       browser_tests/ (headless Chromium, network blocked)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$(date +%s)

scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
export PYTHONHASHSEED=0

echo "== 1/4 unit tests"
python -m pytest tests/ -q -p no:cacheprovider

echo "== 2/4 notebooks (nbval, strict; NBVAL_JOBS=${NBVAL_JOBS:-2} at a time)"
ls notebooks/*.ipynb | xargs -P "${NBVAL_JOBS:-2}" -I{} \
    python -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
    -q -p no:cacheprovider {}

echo "== 3/4 the book (warnings are errors)"
rm -rf _build/html
jupyter-book build . -W --keep-going

echo "== 4/4 the book in a browser"
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
    echo "installing Debian's chromium"
    SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi
python -m pytest browser_tests/ -q -p no:cacheprovider

echo "== all checks passed in $(( $(date +%s) - start )) s"
