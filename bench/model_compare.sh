#!/usr/bin/env bash
# Before/after of two trained models in one run, one after the other on the same machine: NLU
# parse latency (p50/p95) and end-to-end SMS messages/s at 10 concurrent patients.
#   bench/model_compare.sh BEFORE.tar.gz AFTER.tar.gz
set -euo pipefail
cd "$(dirname "$0")/.."
for model in "$@"; do
  echo "== $(basename "$model")"
  .venv/bin/python bench/nlu_latency.py --model "$model" --repeat 2
  .venv/bin/python bench/e2e_bench.py --model "$model" --levels 10 --turns 4 | grep -E "patients|ratio"
done
