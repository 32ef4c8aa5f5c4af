#!/usr/bin/env bash
# `pareto bench model`, `pareto bench membw` and `pareto bench peak`: --json prints exactly one JSON object with the
# documented keys (values are only checked for sanity: CI machines' speeds vary).
set -euo pipefail
pareto="$1"; src="$2"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$pareto" --log-level warn bench model -m "$src/models/stories260K.gguf" -p 16 -n 8 --reps 1 --json \
  >"$tmp/model.json" 2>"$tmp/model.err"
python3 - "$tmp/model.json" <<'PY'
import json, math, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, f"expected one line of JSON, got {len(lines)}"
j = json.loads(lines[0])
for k in ["model", "threads", "p", "n", "reps", "prefill_tok_s", "decode_tok_s", "weight_gb_s",
          "gflops", "prefill_gflops", "weight_bytes", "weight_params"]:
    assert k in j, f"missing key {k}"
assert (j["p"], j["n"], j["reps"]) == (16, 8, 1), j
assert j["kv_cache_dtype"] == "f16", j
assert j["threads"] >= 1
for k in ["prefill_tok_s", "decode_tok_s", "weight_gb_s", "gflops"]:
    assert math.isfinite(j[k]) and j[k] > 0, (k, j[k])
assert "roofline_fraction" not in j
PY
grep -q "rep 1/1 decode" "$tmp/model.err" || { echo "no progress on stderr"; cat "$tmp/model.err"; exit 1; }

# A given roofline bandwidth is compared against.
"$pareto" --log-level warn bench model -m "$src/models/stories260K.gguf" -p 4 -n 4 --reps 1 --json \
  --membw 20 2>/dev/null | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["roofline_gb_s"] == 20 and abs(j["roofline_fraction"] - j["weight_gb_s"] / 20) < 1e-12, j'

"$pareto" --log-level warn bench membw --size 8 --reps 1 --json >"$tmp/membw.json" 2>/dev/null
python3 - "$tmp/membw.json" <<'PY'
import json, math, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, f"expected one line of JSON, got {len(lines)}"
j = json.loads(lines[0])
assert j["array_mib"] == 8 and j["reps"] == 1 and j["threads"] >= 1, j
for kernel in ["read", "copy", "triad"]:
    for k in ["best_gb_s", "median_gb_s"]:
        assert math.isfinite(j[kernel][k]) and j[kernel][k] > 0, (kernel, k)
assert j["read_gb_s"] == j["read"]["best_gb_s"]
PY

# --kv-cache-dtype f32 is taken, anything else refused.
"$pareto" --log-level warn bench model -m "$src/models/stories260K.gguf" -p 4 -n 2 --reps 1 --json \
  --kv-cache-dtype f32 2>/dev/null | python3 -c '
import json, sys
assert json.load(sys.stdin)["kv_cache_dtype"] == "f32"'
if "$pareto" --log-level warn bench model -m "$src/models/stories260K.gguf" -p 4 -n 2 \
    --kv-cache-dtype q8_0 >/dev/null 2>"$tmp/kv.err"; then echo "q8_0 KV accepted"; exit 1; fi
grep -q "kv-cache-dtype" "$tmp/kv.err" || { echo "no clear error"; cat "$tmp/kv.err"; exit 1; }

# A given compute peak is compared against; --peak measures one (quantized: the int8 dot).
"$pareto" --log-level warn bench model -m "$src/models/stories260K.gguf" -p 4 -n 0 --reps 1 --json \
  --peak-gflops 50 2>/dev/null | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["peak_gflops"] == 50 and abs(j["peak_fraction"] - j["prefill_gflops"] / 50) < 1e-12, j'
"$pareto" --log-level warn bench model -m "$src/models/stories260K.gguf" -p 4 -n 0 --reps 1 --peak \
  2>"$tmp/peak.err" | grep -q "% of" || { echo "no peak fraction"; exit 1; }
grep -q "f32_fma peak" "$tmp/peak.err" || { echo "F32 model not held to the FMA peak"; cat "$tmp/peak.err"; exit 1; }

"$pareto" --log-level warn bench peak --reps 1 --json >"$tmp/peak.json" 2>/dev/null
python3 - "$tmp/peak.json" <<'PY'
import json, math, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, f"expected one line of JSON, got {len(lines)}"
j = json.loads(lines[0])
assert j["reps"] == 1 and j["threads"] >= 1, j
assert "f32_fma" in j and "int8_dot" in j, j  # every x86-64 CI machine has AVX2
for op in ["f32_fma", "bf16_dot", "int8_dot"]:
    if op in j:
        assert j[op]["instruction"], op
        for k in ["best_gflops", "median_gflops"]:
            assert math.isfinite(j[op][k]) and j[op][k] > 0, (op, k)
PY

# Human-readable output names its figures.
"$pareto" --log-level warn bench model -m "$src/models/stories260K.gguf" -p 8 -n 4 --reps 1 2>/dev/null \
  | grep -q "tok/s" || { echo "no table"; exit 1; }
# `bench` needs a sub-command; bad options fail cleanly.
set +e
"$pareto" bench >/dev/null 2>&1; rc=$?
[ $rc -ne 0 ] || { echo "bench without a sub-command succeeded"; exit 1; }
err=$("$pareto" bench model -m "$src/models/does-not-exist.gguf" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "^error: .*does-not-exist.gguf" || { echo "missing model: $rc $err"; exit 1; }
err=$("$pareto" bench model -m "$src/models/stories260K.gguf" -p 0 -n 0 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "^error: " || { echo "p = n = 0: $rc $err"; exit 1; }
err=$("$pareto" bench membw --size 0 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "^error: " || { echo "--size 0: $rc $err"; exit 1; }
set -e
echo "bench: ok"
