#!/usr/bin/env bash
# `pareto generate --prompts-file` and `pareto bench offline` run many requests through the engine.
set -euo pipefail
pareto="$1"; src="$2"
model="$src/models/stories260K.gguf"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'Once upon a time\nTom had a red ball\n\nThe sun was hot\n' >"$tmp/prompts.txt"
"$pareto" --log-level warn generate -m "$model" --prompts-file "$tmp/prompts.txt" -n 40 --temp 0 \
  --jsonl --max-num-batched-tokens 8 >"$tmp/batch.jsonl" 2>/dev/null
[ "$(wc -l <"$tmp/batch.jsonl")" -eq 3 ] || { echo "expected 3 results"; cat "$tmp/batch.jsonl"; exit 1; }
# Each batched completion equals the prompt run alone.
i=0
while IFS= read -r prompt; do
  [ -n "$prompt" ] || continue
  alone=$("$pareto" --log-level warn generate -m "$model" -p "$prompt" -n 40 --temp 0 2>/dev/null)
  batched=$(python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2])]; print(r["prompt"]+r["text"])' \
    "$tmp/batch.jsonl" "$i")
  [ "$alone" = "$batched" ] || { echo "prompt $i differs:"; echo "$alone"; echo "---"; echo "$batched"; exit 1; }
  i=$((i + 1))
done <"$tmp/prompts.txt"
# The reference continuation, through a file of prompts too.
expected=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["greedy_text"])' \
  "$src/../shared/reference/stories260K/case1.json")
first=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["text"])' "$tmp/batch.jsonl")
case "$expected" in "$first"*) ;; *) echo "first completion is not the reference's start"; exit 1;; esac
# Stop strings: the text stops right before the stop string.
out=$("$pareto" --log-level warn generate -m "$model" -p "Once upon a time" -n 60 --temp 0 --stop "girl" 2>/dev/null)
[ "$out" = "Once upon a time, there was a little " ] || { echo "stop string: $out"; exit 1; }
# bench offline: JSON with the issue's fields, prefix cache hits with a shared prefix.
json=$("$pareto" --log-level warn bench offline -m "$model" --num-prompts 16 --input-len 48 --output-len 8 \
  --prefix-len 32 --max-num-seqs 4 --json 2>/dev/null)
python3 - "$json" <<'PY'
import json, sys
j = json.loads(sys.argv[1])
for k in ["requests_per_s", "output_tok_s", "prefix_cache_hit_rate", "peak_kv_blocks", "preemptions",
          "kv_slot_utilization", "median_ttft_s"]:
    assert k in j, k
assert j["failed"] == 0
assert j["prefix_cache_hit_rate"] > 0.3, j
assert j["computed_tokens"] < 16 * (48 + 8), j
PY
# A tiny cache forces preemption; every request still completes.
json=$("$pareto" --log-level warn bench offline -m "$model" --num-prompts 12 --input-len 40 --output-len 24 \
  --kv-cache-memory 120KiB --block-size 8 --json 2>/dev/null)
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["failed"]==0 and j["preemptions"]>0, j' "$json"
# Bad input: clear errors, exit code 1.
set +e
"$pareto" generate -m "$model" --prompts-file "$tmp/missing.txt" >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "missing.txt" "$tmp/err" || { echo "missing prompts file: rc $rc"; cat "$tmp/err"; exit 1; }
set +e
"$pareto" generate -m "$model" -p x --kv-cache-memory 12XB >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "unknown size unit" "$tmp/err" || { echo "bad size: rc $rc"; cat "$tmp/err"; exit 1; }
echo "engine: ok"
