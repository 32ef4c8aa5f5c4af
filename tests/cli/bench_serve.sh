#!/usr/bin/env bash
# `pareto bench serve` against a live `pareto serve` on stories260K: every summary key present
# and finite, TTFT <= E2E per request, token counts equal to the server's own counters, the CSV
# row, and clear failures for a bad dataset file and an unreachable server.
set -euo pipefail
pareto="$1"; src="$2"
source "$src/tests/support/serve_helpers.bash"
model="$src/models/stories260K.gguf"
tmp=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

"$pareto" serve -m "$model" --port 0 --served-model-name stories --kv-cache-memory 64MiB \
  >"$tmp/server.log" 2>&1 &
server_pid=$!
port=$(server_port "$tmp/server.log" "$server_pid")
url="http://127.0.0.1:$port"

# --model left out: the first id of GET /v1/models ("stories") is used.
"$pareto" bench serve --base-url "$url" --num-prompts 24 --input-len 32 --output-len 16 \
  --ignore-eos --max-concurrency 4 --request-rate 50 --num-warmup 2 --seed 3 \
  --slo ttft=10000,tpot=10000 --result-file "$tmp/result.json" --csv "$tmp/result.csv" \
  >"$tmp/bench.out" 2>"$tmp/bench.err" \
  || { echo "bench serve failed:"; cat "$tmp/bench.out" "$tmp/bench.err"; exit 1; }
grep -q "Serving Benchmark Result" "$tmp/bench.out" || { echo "no result block"; cat "$tmp/bench.out"; exit 1; }
grep -q "^Successful requests: *24 *$" "$tmp/bench.out" || { echo "wrong count"; cat "$tmp/bench.out"; exit 1; }

python3 - "$tmp/result.json" "$tmp/result.csv" <<'PY'
import csv, json, math, sys
j = json.load(open(sys.argv[1]))
s = j["summary"]
keys = ["completed", "failed", "duration", "total_input_tokens", "total_output_tokens",
        "request_throughput", "output_throughput", "total_token_throughput", "request_goodput"]
keys += [f"{st}_{m}_ms" for st in ("mean", "median", "p90", "p99", "std")
         for m in ("ttft", "tpot", "itl", "e2el")]
for k in keys:
    assert k in s, f"missing summary key {k}"
    assert isinstance(s[k], (int, float)) and math.isfinite(s[k]), f"{k} = {s[k]!r}"
for k in ("energy_joules", "joules_per_output_token", "energy_source"):
    assert k in s, f"missing summary key {k}"
if s["energy_joules"] is None:
    assert s["energy_source"].startswith("unavailable"), s["energy_source"]
else:
    assert s["energy_joules"] > 0 and s["joules_per_output_token"] > 0
assert s["completed"] == 24 and s["failed"] == 0, s
assert s["total_output_tokens"] == 24 * 16, s["total_output_tokens"]
assert s["request_goodput"] == s["request_throughput"], "every request meets a 10 s SLO"
assert s["median_ttft_ms"] <= s["median_e2el_ms"] and s["p99_ttft_ms"] <= s["p99_e2el_ms"]
assert j["config"]["model"] == "stories" and j["config"]["request_rate"] == 50
recs = j["records"]
assert len(recs) == 24
for r in recs:
    assert r["success"] and r["error"] == "", r
    assert 0 < r["ttft_s"] <= r["e2e_s"], r
    assert r["output_len"] == 16 and r["prompt_len"] > 0, r
d = j["metrics_delta"]
assert d["pareto:generation_tokens_total"] == s["total_output_tokens"], (d, s)
assert d["pareto:prompt_tokens_total"] == s["total_input_tokens"], (d, s)
assert d['pareto:request_success_total{finished_reason="length"}'] == 24, d
rows = list(csv.reader(open(sys.argv[2])))
assert len(rows) == 2 and len(rows[0]) == len(rows[1]), rows
row = dict(zip(rows[0], rows[1]))
assert row["completed"] == "24" and row["total_output_tokens"] == "384", row
PY

# A second run appends a row under the same header.
"$pareto" bench serve --base-url "$url" --model stories --num-prompts 4 --input-len 8 \
  --output-len 4 --ignore-eos --no-energy --no-metrics --csv "$tmp/result.csv" >/dev/null 2>&1 \
  || { echo "second run failed"; exit 1; }
[ "$(wc -l <"$tmp/result.csv")" -eq 3 ] || { echo "CSV row not appended"; cat "$tmp/result.csv"; exit 1; }

# A CSV file with another header is refused before anything is sent.
echo "some,other,header" >"$tmp/other.csv"
rc=0; "$pareto" bench serve --base-url "$url" --model stories --num-prompts 2 --input-len 4 \
  --output-len 2 --csv "$tmp/other.csv" >/dev/null 2>"$tmp/csv.err" || rc=$?
[ "$rc" -ne 0 ] && grep -q "different CSV header" "$tmp/csv.err" \
  || { echo "a CSV with another header was not refused:"; cat "$tmp/csv.err"; exit 1; }

# A bad dataset file: non-zero, and the message names the file.
rc=0; "$pareto" bench serve --base-url "$url" --model stories --dataset-name sharegpt \
  --dataset-path "$tmp/missing.json" --num-prompts 2 >/dev/null 2>"$tmp/bad.err" || rc=$?
[ "$rc" -ne 0 ] || { echo "a missing dataset file was accepted"; exit 1; }
grep -q "missing.json" "$tmp/bad.err" || { echo "unclear message:"; cat "$tmp/bad.err"; exit 1; }
echo '{"not": "a list"}' >"$tmp/bad.json"
rc=0; "$pareto" bench serve --base-url "$url" --model stories --dataset-name sharegpt \
  --dataset-path "$tmp/bad.json" --num-prompts 2 >/dev/null 2>"$tmp/bad.err" || rc=$?
[ "$rc" -ne 0 ] || { echo "a malformed dataset file was accepted"; exit 1; }
grep -q "bad.json" "$tmp/bad.err" || { echo "unclear message:"; cat "$tmp/bad.err"; exit 1; }

# An unreachable server: non-zero with "cannot reach".
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
rc=0; "$pareto" bench serve --base-url "$url" --model stories --num-prompts 2 --input-len 4 \
  --output-len 2 >/dev/null 2>"$tmp/down.err" || rc=$?
[ "$rc" -ne 0 ] || { echo "an unreachable server was not an error"; exit 1; }
grep -q "cannot reach $url" "$tmp/down.err" || { echo "unclear message:"; cat "$tmp/down.err"; exit 1; }
echo "bench serve: ok"
