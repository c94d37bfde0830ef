#!/usr/bin/env bash
# The main job on the bundled samples: index samples/refs, check samples/viral.mp4
# against it with the claim in samples/claim.yml, and write the reports to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
mkdir -p out
rm -f out/samples.sqlite out/samples.sqlite-wal out/samples.sqlite-shm
.venv/bin/provenance index add samples/refs --index out/samples.sqlite
.venv/bin/provenance check samples/viral.mp4 --index out/samples.sqlite --claim samples/claim.yml --article samples/article.txt --format json -o out/report.json
.venv/bin/provenance check samples/viral.mp4 --index out/samples.sqlite --claim samples/claim.yml --article samples/article.txt --format md -o out/report.md
.venv/bin/provenance report out/report.json --format html -o out/report.html
.venv/bin/provenance article samples/article.html --map samples/viral.mp4=https://t.me/baymak_news/4512 --index out/samples.sqlite --format html -o out/article.html
echo "verdict: $(.venv/bin/python -c 'import json; r = json.load(open("out/report.json")); print(r["verdict"]["code"], "-", r["verdict"]["summary"])')"
