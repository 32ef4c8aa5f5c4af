#!/usr/bin/env bash
# `pareto bench sweep` end to end on stories260K: a 2 x 2 grid run twice per point, the files it
# writes (JSON with consistent medians and a frontier, CSV, markdown, well-formed SVGs), a sweep
# against an existing server, clear errors, and no server process left behind.
set -euo pipefail
pareto="$1"; src="$2"
source "$src/tests/support/serve_helpers.bash"
model="$src/models/stories260K.gguf"
tmp=$(mktemp -d)
tag="sweeptest-$$"   # in every server's command line, to find strays
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

no_strays() {
  if pgrep -f -- "--served-model-name $tag" >/dev/null; then
    echo "a server was left behind:"; pgrep -af -- "--served-model-name $tag"; exit 1
  fi
}

"$pareto" bench sweep -m "$model" --served-model-name "$tag" --max-num-seqs 2,8 --concurrency 1,8 \
  --runs 2 --num-prompts 16 --input-len 16 --output-len 8 --threads 2 \
  --server-args "--kv-cache-memory 16MiB" -o "$tmp/out" >"$tmp/stdout.txt" 2>"$tmp/stderr.txt" \
  || { echo "sweep failed:"; cat "$tmp/stderr.txt"; exit 1; }
no_strays
for f in sweep.json sweep.csv sweep.md throughput_vs_latency.svg per_user_vs_total.svg; do
  [ -s "$tmp/out/$f" ] || { echo "missing $f"; exit 1; }
done
grep -q "point 4/4: mns=8 r=1 c=8 run 2/2" "$tmp/stderr.txt" || { echo "no progress lines"; cat "$tmp/stderr.txt"; exit 1; }
grep -q "^Pareto-optimal (output tok/s vs median e2el latency): mns=" "$tmp/stdout.txt" \
  || { echo "no Pareto summary"; cat "$tmp/stdout.txt"; exit 1; }

python3 - "$tmp/out" "$tag" <<'PY'
import csv, json, statistics, sys, xml.etree.ElementTree as ET
out, tag = sys.argv[1], sys.argv[2]
j = json.load(open(f"{out}/sweep.json"))
assert j["model"] == tag, j["model"]
pts = j["points"]
grid = [(p["max_num_seqs"], p["concurrency"]) for p in pts]
assert grid == [(2, 1), (2, 8), (8, 1), (8, 8)], grid
for p in pts:
    assert p["replicas"] == 1 and p["threads_per_replica"] == 2 and p["request_rate"] is None, p
    assert len(p["runs"]) == 2, len(p["runs"])
    for run in p["runs"]:
        assert run["completed"] == 16 and run["failed"] == 0, run
        assert run["total_output_tokens"] == 16 * 8, run["total_output_tokens"]  # --ignore-eos
        assert run["median_ttft_ms"] <= run["median_e2el_ms"], run
    for key, v in p["median"].items():
        vals = [r[key] for r in p["runs"] if isinstance(r[key], (int, float))]
        if vals:
            assert abs(v - statistics.median(vals)) <= 1e-9 * max(1, abs(v)), (key, v, vals)
        elif isinstance(v, str):
            assert v == p["runs"][0][key], key
        else:
            assert v is None, (key, v)
assert any(p["pareto_optimal"] for p in pts), "no Pareto-optimal point"
assert any(p["pareto_optimal_per_user"] for p in pts)
# No Pareto-optimal point is dominated by another point.
lat = lambda p: p["median"]["median_e2el_ms"]
tps = lambda p: p["median"]["output_throughput"]
for p in pts:
    dominated = any(lat(q) <= lat(p) and tps(q) >= tps(p) and (lat(q) < lat(p) or tps(q) > tps(p)) for q in pts)
    assert p["pareto_optimal"] == (not dominated), p["label"]

rows = list(csv.DictReader(open(f"{out}/sweep.csv")))
assert len(rows) == 4 and rows[3]["max_num_seqs"] == "8" and rows[3]["concurrency"] == "8", rows
assert abs(float(rows[0]["output_throughput"]) - tps(pts[0])) <= 1e-5 * tps(pts[0])

md = open(f"{out}/sweep.md").read()
assert md.count("| mns=") == 4 and "★" in md, md

ns = "{http://www.w3.org/2000/svg}"
for name in ("throughput_vs_latency.svg", "per_user_vs_total.svg"):
    root = ET.parse(f"{out}/{name}").getroot()  # raises on malformed XML
    w, h = (float(x) for x in root.get("viewBox").split()[2:])
    texts = [t.text for t in root.iter(ns + "text")]
    key = "pareto_optimal" if name.startswith("throughput") else "pareto_optimal_per_user"
    for p in pts:  # frontier points carry their full label
        assert (p["label"] in texts) == p[key], (name, p["label"])
    circles = list(root.iter(ns + "circle"))
    # a marker per point, a ring per frontier point, one per legend entry (2 configs + frontier)
    assert len(circles) == len(pts) + sum(p[key] for p in pts) + 3, (name, len(circles))
    for c in circles:
        assert 0 <= float(c.get("cx")) <= w and 0 <= float(c.get("cy")) <= h, (name, c.attrib)
    assert "Pareto frontier" in texts, name
PY

# --replot: the same files again from sweep.json, measuring nothing; another latency metric.
"$pareto" bench sweep --replot "$tmp/out/sweep.json" -o "$tmp/replot" >/dev/null
cmp "$tmp/out/sweep.json" "$tmp/replot/sweep.json" || { echo "replot changed sweep.json"; exit 1; }
cmp "$tmp/out/throughput_vs_latency.svg" "$tmp/replot/throughput_vs_latency.svg" || { echo "replot changed the plot"; exit 1; }
"$pareto" bench sweep --replot "$tmp/out/sweep.json" --latency-metric tpot -o "$tmp/replot-tpot" >/dev/null
grep -q '"latency_metric": "tpot"' "$tmp/replot-tpot/sweep.json" || { echo "no tpot replot"; exit 1; }
grep -q "median time per output token (ms)" "$tmp/replot-tpot/throughput_vs_latency.svg" || { echo "tpot axis missing"; exit 1; }

# Against an existing server: only the load axis, no server configuration recorded.
"$pareto" serve -m "$model" --port 0 --served-model-name "$tag" --kv-cache-memory 16MiB \
  >"$tmp/server.log" 2>&1 &
server_pid=$!
port=$(server_port "$tmp/server.log" "$server_pid")
"$pareto" bench sweep --base-url "http://127.0.0.1:$port" --tokenizer "$model" --concurrency 2 \
  --request-rate 50,inf --runs 1 --num-prompts 16 --input-len 16 --output-len 8 -o "$tmp/ext" \
  >/dev/null 2>"$tmp/ext.txt" || { echo "sweep --base-url failed:"; cat "$tmp/ext.txt"; exit 1; }
python3 - "$tmp/ext/sweep.json" "$tag" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["model"] == sys.argv[2], j["model"]  # the first of GET /v1/models
assert [(p["max_num_seqs"], p["replicas"], p["concurrency"], p["request_rate"]) for p in j["points"]] \
    == [(None, None, 2, 50), (None, None, 2, None)], j["points"]
assert [p["label"] for p in j["points"]] == ["rate=50 c=2", "c=2"]
PY
rc=0; "$pareto" bench sweep --base-url "http://127.0.0.1:$port" --max-num-seqs 4 --concurrency 1 \
  -o "$tmp/bad" >/dev/null 2>"$tmp/err.txt" || rc=$?
[ "$rc" -ne 0 ] && grep -q "only the load is swept" "$tmp/err.txt" || { echo "no clear error:"; cat "$tmp/err.txt"; exit 1; }
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""

# A server that cannot start: a clear error with its log, and nothing left running.
rc=0; "$pareto" bench sweep -m "$model" --served-model-name "$tag" --max-num-seqs 2 --concurrency 1 \
  --runs 1 --server-args "--no-such-flag" -o "$tmp/bad" >/dev/null 2>"$tmp/err.txt" || rc=$?
[ "$rc" -ne 0 ] && grep -q "no-such-flag" "$tmp/err.txt" || { echo "no clear startup error:"; cat "$tmp/err.txt"; exit 1; }
# Replicas: 2 threads as 1 replica x 2 threads and as 2 replicas x 1 thread, when the server has
# --replicas; without it, a clear refusal.
if "$pareto" serve --help | grep -q -- "--replicas"; then
  "$pareto" bench sweep -m "$model" --served-model-name "$tag" --max-num-seqs 4 --replicas 1,2 \
    --threads 2 --concurrency 4 --runs 1 --num-prompts 16 --input-len 16 --output-len 8 \
    -o "$tmp/rep" >/dev/null 2>"$tmp/rep.txt" || { echo "replica sweep failed:"; cat "$tmp/rep.txt"; exit 1; }
  python3 - "$tmp/rep/sweep.json" <<'PY'
import json, sys
pts = json.load(open(sys.argv[1]))["points"]
assert [(p["replicas"], p["threads_per_replica"], p["label"]) for p in pts] == \
    [(1, 2, "mns=4 r=1 c=4"), (2, 1, "mns=4 r=2 c=4")], pts
assert all(r["completed"] == 16 for p in pts for r in p["runs"])
PY
else
  rc=0; "$pareto" bench sweep -m "$model" --replicas 1,2 --concurrency 1 -o "$tmp/rep" \
    >/dev/null 2>"$tmp/rep.txt" || rc=$?
  [ "$rc" -ne 0 ] && grep -q "needs .pareto serve --replicas" "$tmp/rep.txt" \
    || { echo "no clear --replicas refusal:"; cat "$tmp/rep.txt"; exit 1; }
fi
no_strays

# One configuration failing costs only its own points: the others are measured and the failure
# is a note.
cat >"$tmp/flaky.sh" <<FLAKY
#!/bin/sh
case " \$* " in *" --max-num-seqs 8 "*) echo "flaky: refusing mns=8" >&2; exit 2;; esac
exec "$pareto" "\$@"
FLAKY
chmod +x "$tmp/flaky.sh"
"$pareto" bench sweep -m "$model" --served-model-name "$tag" --server-binary "$tmp/flaky.sh" \
  --max-num-seqs 8,2 --concurrency 1 --runs 1 --num-prompts 16 --input-len 16 --output-len 8 \
  -o "$tmp/flaky" >/dev/null 2>"$tmp/flaky.txt" || { echo "partial sweep failed:"; cat "$tmp/flaky.txt"; exit 1; }
python3 - "$tmp/flaky/sweep.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert [p["label"] for p in j["points"]] == ["mns=2 r=1 c=1"], j["points"]
assert len(j["notes"]) == 1 and j["notes"][0].startswith("mns=8 r=1: skipped after an error"), j["notes"]
PY
grep -q "flaky: refusing mns=8" "$tmp/flaky.txt" || { echo "the server's log is not shown"; cat "$tmp/flaky.txt"; exit 1; }

rc=0; "$pareto" bench sweep -m "$model" --base-url "http://127.0.0.1:1" --concurrency 1 \
  -o "$tmp/bad" >/dev/null 2>"$tmp/err.txt" || rc=$?
[ "$rc" -ne 0 ] && grep -q "either -m MODEL" "$tmp/err.txt" || { echo "no clear error:"; cat "$tmp/err.txt"; exit 1; }
no_strays
echo "bench_sweep: ok"
