#!/usr/bin/env bash
# `pareto plan`: the cost model's table and JSON on stories260K with a shipped hardware file and
# on this machine (measured), --validate against fake sweep files whose "measured" values are
# the predictions scaled (so the error and the verdict are known), and clear errors for a bad
# hardware file and a bad sweep file.
set -euo pipefail
pareto="$1"; src="$2"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
model="$src/models/stories260K.gguf"
a100="$src/hardware/a100-80gb.json"

"$pareto" --log-level warn plan -m "$model" --hardware "$a100" --context 64 --users 8 \
  --output-len 16 >"$tmp/plan.txt"
for line in "hardware  NVIDIA A100-SXM4-80GB" "KV bytes per token" "max sequences in memory" \
            "concurrency                  8 (1 wave)" "prefill (one context)" "decode step" \
            "context switch (swap)" "output throughput" "TTFT (mean)" "TPOT (mean)"; do
  grep -qF "$line" "$tmp/plan.txt" || { echo "missing '$line'"; cat "$tmp/plan.txt"; exit 1; }
done

# JSON: stories260K has 5 layers and 4 KV heads of 8: 2 * 5 * 32 * 2 bytes (F16) per token.
"$pareto" --log-level warn plan -m "$model" --hardware "$a100" --context 64 --users 8 \
  --output-len 16 --json >"$tmp/plan.json"
python3 - "$tmp/plan.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["kv_bytes_per_token"] == 640, j["kv_bytes_per_token"]
assert j["kv_bytes_per_seq"] == 80 * 640, j["kv_bytes_per_seq"]  # 64 + 16 tokens = 5 blocks
assert j["concurrency"] == 8 and j["waves"] == 1, j
assert j["compute_dtype"] == "f32", j["compute_dtype"]
assert j["hardware"]["memory_bandwidth_gb_s"] == 2039
assert 0 < j["ttft_s"] <= j["e2e_s"], j
assert abs(j["output_tok_s"] - 8 * 16 / j["total_s"]) < 1e-9 * j["output_tok_s"], j
PY

# This machine, measured: progress on stderr, the measured description on stdout.
"$pareto" --log-level warn plan -m "$model" --context 32 --users 4 --output-len 8 \
  >"$tmp/here.txt" 2>"$tmp/here.err"
grep -q "measuring this machine" "$tmp/here.err" || { cat "$tmp/here.err"; exit 1; }
grep -q "hardware  this machine" "$tmp/here.txt" || { cat "$tmp/here.txt"; exit 1; }
grep -q "output throughput" "$tmp/here.txt" || { cat "$tmp/here.txt"; exit 1; }

# --calibrate: the achieved fractions measured on the model now (and refused with --hardware).
"$pareto" --log-level warn plan -m "$model" --calibrate --context 32 --users 4 --output-len 8 \
  --json 2>"$tmp/cal.err" | python3 -c '
import json, sys
h = json.load(sys.stdin)["hardware"]
assert "calibrated now" in h["source"], h["source"]
assert 0 < h["achieved"]["bandwidth_fraction"] <= 1 and 0 < h["achieved"]["flops_fraction"] <= 1, h'
grep -q "calibrating on the model" "$tmp/cal.err" || { cat "$tmp/cal.err"; exit 1; }
if "$pareto" --log-level warn plan -m "$model" --hardware "$a100" --calibrate --context 8 \
    2>"$tmp/cal2.err"; then
  echo "--calibrate with --hardware was accepted"; exit 1
fi
grep -q "cannot be combined with --hardware" "$tmp/cal2.err" || { cat "$tmp/cal2.err"; exit 1; }

# --validate: two points whose measured values are the predictions x 1.1 (relative error of the
# predictions (1 - 1.1) / 1.1 = -9.1%), then x 3 ((1 - 3) / 3 = -66.7%).
for c in 1 4; do
  "$pareto" --log-level warn plan -m "$model" --hardware "$a100" --context 48 --output-len 12 \
    --users $c --max-num-seqs 4 --json >"$tmp/pred$c.json"
done
make_sweep() {
  python3 - "$tmp" "$1" <<'PY'
import json, sys
tmp, scale = sys.argv[1], float(sys.argv[2])
points = []
for c in (1, 4):
    p = json.load(open(f"{tmp}/pred{c}.json"))
    med = {"output_throughput": p["output_tok_s"] * scale, "mean_ttft_ms": p["ttft_s"] * 1e3 * scale,
           "mean_tpot_ms": p["tpot_s"] * 1e3 * scale, "completed": 8}
    points.append({"max_num_seqs": 4, "replicas": 1, "threads_per_replica": 2, "concurrency": c,
                   "request_rate": None, "runs": [med, med, med], "median": med,
                   "pareto_optimal": True})
# An open-loop point (rate only) of a --base-url sweep: skipped, not an error.
points.append({"max_num_seqs": None, "replicas": None, "concurrency": None, "request_rate": 4.0,
               "runs": [], "median": points[0]["median"], "pareto_optimal": False})
json.dump({"model": "stories260K", "dataset": {"name": "random", "input_len": 48,
           "output_len": 12}, "points": points}, open(f"{tmp}/sweep{sys.argv[2]}.json", "w"))
PY
}
make_sweep 1.1
"$pareto" --log-level warn plan -m "$model" --hardware "$a100" --validate "$tmp/sweep1.1.json" \
  >"$tmp/val.txt"
grep -q "mean absolute relative error 9.1% over 6 values: within target (<= 30%)" "$tmp/val.txt" \
  || { cat "$tmp/val.txt"; exit 1; }
make_sweep 3
"$pareto" --log-level warn plan -m "$model" --hardware "$a100" --validate "$tmp/sweep3.json" \
  >"$tmp/val3.txt"  # exit 0 either way
grep -q "mean absolute relative error 66.7% over 6 values: above target (> 30%)" "$tmp/val3.txt" \
  || { cat "$tmp/val3.txt"; exit 1; }
"$pareto" --log-level warn plan -m "$model" --hardware "$a100" --validate "$tmp/sweep3.json" \
  --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert len(j["points"]) == 2 and j["within_target"] is False, j  # the open-loop point skipped
assert abs(j["mean_abs_relative_error"] - 2 / 3) < 1e-9, j
e = j["points"][1]["output_throughput"]
assert abs(e["relative_error"] + 2 / 3) < 1e-9, e'

# Bad inputs: a non-zero exit and a message naming the file and the field.
python3 -c '
import json, sys
j = json.load(open(sys.argv[1])); del j["achieved"]["flops_fraction"]
json.dump(j, open(sys.argv[2], "w"))' "$a100" "$tmp/bad.json"
if "$pareto" --log-level warn plan -m "$model" --hardware "$tmp/bad.json" --context 8 \
    2>"$tmp/bad.err"; then
  echo "a bad hardware file was accepted"; exit 1
fi
grep -q "hardware file $tmp/bad.json: achieved: missing field \"flops_fraction\"" "$tmp/bad.err" \
  || { cat "$tmp/bad.err"; exit 1; }
echo '{"dataset": {"input_len": 8}, "points": []}' >"$tmp/badsweep.json"
if "$pareto" --log-level warn plan -m "$model" --hardware "$a100" \
    --validate "$tmp/badsweep.json" 2>"$tmp/badsweep.err"; then
  echo "a bad sweep file was accepted"; exit 1
fi
grep -q "sweep file $tmp/badsweep.json" "$tmp/badsweep.err" || { cat "$tmp/badsweep.err"; exit 1; }
echo "plan: ok"
