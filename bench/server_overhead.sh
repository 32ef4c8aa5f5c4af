#!/usr/bin/env bash
# Requests/s and output tokens/s of `pareto serve` at several concurrencies (streaming clients
# from `pareto bench serve`, or bench/serve_load.py with CLIENT=python), against `pareto bench
# offline` with the same request shapes and --max-num-seqs = concurrency, alternating: the
# server's throughput loss. Medians of RUNS runs, and the median of the RUNS paired ratios (each
# server run against the offline run next to it: the host's drift cancels in a pair), and the
# single pairs in run order, with a bootstrap 90% confidence interval of the paired median
# (how far they scatter says how much a median can be trusted).
# Measuring starts once the server logs that its KV cache is committed (until then a background
# thread faults the arena's pages in, which `bench offline` waits for before it starts timing).
# usage: bench/server_overhead.sh PARETO MODEL [RUNS] [INPUT_LEN] [OUTPUT_LEN] [CONCURRENCIES...]
# SERVE_ARGS (environment): extra `pareto serve` flags, e.g. "--io-scheduling normal";
# CLIENT_ARGS: extra `pareto bench serve` flags, e.g. "--no-keep-alive".
# IO_CPUS (a CPU list, e.g. "1"): the server runs with --io-cpus IO_CPUS and the load generator
# on those CPUs too, while the engine's threads, and `bench offline`, get the other CPUs (one
# thread per CPU): the server's overhead on the engine, with the HTTP path and the client on
# cores of their own, as vLLM's CPU backend is deployed (a core reserved for the frontend).
set -euo pipefail
pareto="$1"; model="$2"; runs="${3:-3}"; input_len="${4:-8}"; output_len="${5:-128}"
shift $(( $# < 5 ? $# : 5 ))
concurrencies=("$@"); [ ${#concurrencies[@]} -gt 0 ] || concurrencies=(1 8 32 64)
here="$(cd "$(dirname "$0")" && pwd)"
vocab=$("$pareto" inspect "$model" 2>/dev/null | sed -n 's/.*tokenizer.ggml.tokens .*\[\([0-9]*\) x str\].*/\1/p' | head -1)
vocab=${vocab:-32000}
serve_pin=(); client_pin=(); offline_pin=(); offline_threads=()
if [ -n "${IO_CPUS:-}" ]; then
  read -r engine_cpus engine_threads <<<"$(python3 - "$IO_CPUS" <<'PY'
import os, sys
io = set()
for part in sys.argv[1].split(","):
    a, _, b = part.partition("-")
    io.update(range(int(a), int(b or a) + 1))
engine = sorted(set(os.sched_getaffinity(0)) - io)
if not engine:
    sys.exit("IO_CPUS leaves no CPU for the engine")
print(",".join(map(str, engine)), len(engine))
PY
)"
  serve_pin=(--io-cpus "$IO_CPUS" -t "$engine_threads"); client_pin=(taskset -c "$IO_CPUS")
  offline_pin=(taskset -c "$engine_cpus"); offline_threads=(-t "$engine_threads")
  echo "engine and bench offline: CPU(s) $engine_cpus, $engine_threads thread(s); HTTP path and load generator: CPU(s) $IO_CPUS" >&2
fi
tmp=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
echo "| concurrency | server req/s | server output tok/s | offline output tok/s | server / offline | median paired ratio | 90% CI of that median | single pairs |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for c in "${concurrencies[@]}"; do
  # Requests per run: 8 below 8 streams, 32 at 8-15 (two waves of 8 took ~2 s, and such runs
  # moved by +-10%), twice the streams above.
  n=$(( c < 8 ? 8 : c < 16 ? 32 : 2 * c ))
  port=$(( 18700 + c ))
  "$pareto" serve -m "$model" --port "$port" --served-model-name m \
    --max-num-seqs "$c" "${serve_pin[@]}" ${SERVE_ARGS:-} >"$tmp/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/server.log" >&2; exit 1; }
    sleep 0.1
  done
  # (A KV cache under 256 MiB is committed before the server listens, and logs nothing.)
  for _ in $(seq 1 300); do
    grep -q "KV cache: all .* committed" "$tmp/server.log" && break
    sleep 0.1
  done
  client() {  # SEED NUM OUTPUT_LEN: one JSON line with output_tok_s and requests_per_s
    if [ "${CLIENT:-pareto}" = python ]; then
      "${client_pin[@]}" python3 "$here/serve_load.py" --port "$port" --model m --concurrency "$c" --num-requests "$2" \
        --input-len "$input_len" --output-len "$3" --vocab "$vocab" --seed "$1"
    else
      "${client_pin[@]}" "$pareto" --log-level warn bench serve --base-url "http://127.0.0.1:$port" --model m \
        --tokenizer "$model" --max-concurrency "$c" --num-prompts "$2" --input-len "$input_len" \
        --output-len "$3" --ignore-eos --seed "$1" --no-energy --result-file "$tmp/r.json" \
        ${CLIENT_ARGS:-} >/dev/null 2>"$tmp/client.err" || { cat "$tmp/client.err" >&2; exit 1; }
      python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['summary']; print(json.dumps({'output_tok_s': s['output_throughput'], 'requests_per_s': s['request_throughput']}))" "$tmp/r.json"
    fi
  }
  client 99 4 4 >/dev/null  # warm-up
  # Alternate server and offline runs (the idle server sleeps) so drift hits both alike.
  : >"$tmp/server.jsonl"; : >"$tmp/offline.jsonl"
  offline() {
    "${offline_pin[@]}" "$pareto" --log-level warn bench offline -m "$model" "${offline_threads[@]}" \
      --num-prompts "$n" --input-len "$input_len" --output-len "$output_len" --max-num-seqs "$c" --json 2>/dev/null >>"$tmp/offline.jsonl"
  }
  # Odd runs put the server first, even runs offline first, so neither always follows the
  # other (an offline run ends by freeing its KV arena, which the kernel then reclaims).
  for r in $(seq "$runs"); do
    if (( r % 2 )); then
      client "$r" "$n" "$output_len" >>"$tmp/server.jsonl"; offline
    else
      offline; client "$r" "$n" "$output_len" >>"$tmp/server.jsonl"
    fi
  done
  kill -INT "$pid"; wait "$pid" || true
  python3 - "$c" "$tmp/server.jsonl" "$tmp/offline.jsonl" <<'PY'
import json, random, statistics, sys
c = int(sys.argv[1])
srv = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
off = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
s_tok = statistics.median(r["output_tok_s"] for r in srv)
s_req = statistics.median(r["requests_per_s"] for r in srv)
o_tok = statistics.median(r["output_tok_s"] for r in off)
pairs = [s["output_tok_s"] / o["output_tok_s"] for s, o in zip(srv, off)]
# How far the median of the pairs can be trusted on this noisy host: a percentile bootstrap
# (10,000 resamples of the pairs, fixed seed so the same pairs give the same interval).
rng = random.Random(12345)
boot = sorted(statistics.median(rng.choices(pairs, k=len(pairs))) for _ in range(10000))
ci = "%.3f-%.3f" % (boot[500], boot[9499])
print("| %d | %.2f | %.1f | %.1f | %.3f | %.3f | %s | %s |" % (c, s_req, s_tok, o_tok, s_tok / o_tok,
      statistics.median(pairs), ci, " ".join("%.3f" % p for p in pairs)))
PY
done
