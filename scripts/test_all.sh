#!/usr/bin/env bash
# README command 2: every check. `.ci/run` and the GitHub Actions workflow call this and
# nothing else.
#   1. lint                              ruff check (configured in pyproject.toml)
#   2. unit tests                        pytest tests/
#   3. every notebook, strict            pytest --nbval (a fresh run must print what is committed:
#                                        this is also the repeatability check, see CONTRIBUTING.md)
#   4. the book, warnings as errors      jupyter-book build . -W --keep-going, then the Chinese
#                                        edition into _build/html/zh/ (scripts/i18n.py build)
#   5. the built book in a browser       browser_tests/ (headless Chromium, network blocked),
#                                        both editions
# (step 2 includes tests/test_translations.py: the Chinese catalogues against the English text)
# The browser is $CHROMIUM when set (CI points it at the runner's Chrome), else `chromium`
# or `chromium-browser` on the PATH (browser_tests/test_book.py looks in the same order);
# when there is none, Debian's chromium is installed with apt-get.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$(date +%s)

scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
export PYTHONHASHSEED=0

echo "== 1/5 lint (ruff)"
ruff check .

echo "== 2/5 unit tests"
python -m pytest tests/ -q -p no:cacheprovider

echo "== 3/5 notebooks (nbval, strict; NBVAL_JOBS=${NBVAL_JOBS:-2} at a time)"
ls notebooks/*.ipynb | xargs -P "${NBVAL_JOBS:-2}" -I{} \
    python -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
    -q -p no:cacheprovider {}

echo "== 4/5 the book (warnings are errors), English at _build/html/, Chinese at _build/html/zh/"
rm -rf _build/html
jupyter-book build . -W --keep-going
python scripts/i18n.py build

echo "== 5/5 the book in a browser"
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1 \
        && ! command -v chromium-browser >/dev/null 2>&1; then
    echo "installing Debian's chromium"
    SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi
python -m pytest browser_tests/ -q -p no:cacheprovider

echo "== all checks passed in $(( $(date +%s) - start )) s"
