#!/usr/bin/env bash
# Output tokens/s of `pareto bench offline` at several concurrencies (--max-num-seqs), median of
# RUNS runs each, and the ratio to concurrency 1.
# usage: bench/engine_scaling.sh PARETO MODEL [RUNS] [INPUT_LEN] [OUTPUT_LEN] [CONCURRENCIES...]
set -euo pipefail
pareto="$1"; model="$2"; runs="${3:-3}"; input_len="${4:-128}"; output_len="${5:-128}"
shift $(( $# < 5 ? $# : 5 ))
concurrencies=("$@"); [ ${#concurrencies[@]} -gt 0 ] || concurrencies=(1 8 32 64)
results=()
for s in "${concurrencies[@]}"; do
  prompts=$(( s < 2 ? 2 : 2 * s ))
  for r in $(seq "$runs"); do
    "$pareto" --log-level warn bench offline -m "$model" --num-prompts "$prompts" \
      --input-len "$input_len" --output-len "$output_len" --max-num-seqs "$s" --json 2>/dev/null
  done | python3 -c '
import json, statistics, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
print(json.dumps({"concurrency": int(sys.argv[1]),
                  "output_tok_s": statistics.median(r["output_tok_s"] for r in rows),
                  "kv_slot_utilization": statistics.median(r["kv_slot_utilization"] for r in rows),
                  "median_ttft_s": statistics.median(r["median_ttft_s"] for r in rows)}))' "$s"
done | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
base = rows[0]["output_tok_s"]
print("| concurrency | output tok/s | vs. concurrency %d | allocated KV slots unused |" % rows[0]["concurrency"])
print("| --- | --- | --- | --- |")
for r in rows:
    print("| %d | %.1f | %.2fx | %.1f%% |" % (r["concurrency"], r["output_tok_s"], r["output_tok_s"] / base,
          100 * (1 - r["kv_slot_utilization"])))'
