#!/usr/bin/env bash
# The whole test suite, lint and type check, from a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/ruff check provenance tests bench
.venv/bin/ruff format --check provenance tests bench
.venv/bin/mypy provenance
.venv/bin/python -m pytest -q "$@"
