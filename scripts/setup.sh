#!/usr/bin/env bash
# Set up everything provenance needs on a Debian machine: ffmpeg and a virtual
# environment (.venv) with the package and its test tools. Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: ffmpeg/ffprobe (decoding and probing), fpcalc (Chromaprint,
# the sound track's fingerprint), Tesseract with the language data the
# on-screen text stage reads, and the DejaVu and Liberation fonts the tests draw captions with.
PACKAGES="ffmpeg fonts-dejavu-core fonts-liberation libchromaprint-tools tesseract-ocr tesseract-ocr-eng tesseract-ocr-rus tesseract-ocr-ukr tesseract-ocr-ara tesseract-ocr-spa tesseract-ocr-fra tesseract-ocr-deu"
missing=""
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
if [ -n "$missing" ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "installing$missing with apt-get ..." >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
        echo "installing$missing with sudo apt-get ..." >&2
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    elif ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
        echo "error: ffmpeg and ffprobe are needed: install them (Debian: apt-get install$missing) and rerun" >&2
        exit 3
    else
        echo "warning: not installed:$missing (Debian: apt-get install$missing); the stages that need them report themselves unavailable" >&2
    fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[dev]"
