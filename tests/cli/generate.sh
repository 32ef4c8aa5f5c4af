#!/usr/bin/env bash
# `pareto generate` on the bundled model prints the reference greedy continuation.
set -euo pipefail
pareto="$1"; src="$2"
expected=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["greedy_text"])' \
  "$src/../shared/reference/stories260K/case1.json")
out=$("$pareto" --log-level warn generate -m "$src/models/stories260K.gguf" -p "Once upon a time" -n 100 --temp 0 2>/dev/null)
if [ "$out" != "Once upon a time$expected" ]; then
  echo "unexpected output:"; echo "$out"; echo "expected:"; echo "Once upon a time$expected"; exit 1
fi
# Seeded sampling is reproducible.
a=$("$pareto" --log-level warn generate -m "$src/models/stories260K.gguf" -p "Tom had" -n 40 --seed 7 2>/dev/null)
b=$("$pareto" --log-level warn generate -m "$src/models/stories260K.gguf" -p "Tom had" -n 40 --seed 7 -t 1 2>/dev/null)
[ "$a" = "$b" ] || { echo "seeded runs differ"; exit 1; }
# Memory-mapped weights (--mmap) give the same text as weights read into memory (the default).
c=$("$pareto" --log-level warn generate -m "$src/models/stories260K.gguf" -p "Tom had" -n 40 --seed 7 --mmap 2>/dev/null)
[ "$a" = "$c" ] || { echo "--mmap run differs"; exit 1; }
# A synthesized llama-135m-shaped model (2 layers, Q8_0) decodes the same tokens on 1 and 2 threads.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$pareto" --log-level warn synth --shape llama-135m --layers 2 --vocab-from "$src/models/stories260K.gguf" \
  --type q8_0 -o "$tmp/synth.gguf" 2>/dev/null
one=$("$pareto" --log-level warn generate -m "$tmp/synth.gguf" -p "Once upon a time" -n 48 --temp 0 --ignore-eos -t 1 2>/dev/null)
two=$("$pareto" --log-level warn generate -m "$tmp/synth.gguf" -p "Once upon a time" -n 48 --temp 0 --ignore-eos -t 2 2>/dev/null)
[ "$one" = "$two" ] || { echo "1 and 2 threads differ:"; echo "$one"; echo "$two"; exit 1; }
[ ${#one} -gt 16 ] || { echo "synthesized model generated too little: $one"; exit 1; }
# Bad input: clear error, exit code 1, no crash.
set +e
err=$("$pareto" generate -m "$src/models/does-not-exist.gguf" -p "x" 2>&1); rc=$?
set -e
[ $rc -eq 1 ] || { echo "missing model: exit code $rc"; exit 1; }
echo "$err" | grep -q "does-not-exist.gguf" || { echo "error does not name the file: $err"; exit 1; }
set +e
"$pareto" generate -m "$src/models/stories260K.gguf" -p "x" --temp -1 >/dev/null 2>&1; rc=$?
set -e
[ $rc -eq 1 ] || { echo "negative temperature: exit code $rc"; exit 1; }
echo "generate: ok"
