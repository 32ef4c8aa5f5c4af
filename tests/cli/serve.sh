#!/usr/bin/env bash
# `pareto serve` end to end: the official OpenAI Node client against a real server, promtool
# on /metrics, and a graceful SIGINT (an in-flight stream finishes, exit code 0).
set -euo pipefail
pareto="$1"; src="$2"
source "$src/tests/support/serve_helpers.bash"
model="$src/models/stories260K.gguf"
js="$src/tests/server/js"
tmp=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

command -v node >/dev/null || { echo "node is required (Node.js 20+)"; exit 1; }
[ -d "$js/node_modules/openai" ] || { echo "run 'npm ci' in $js first (make test does)"; exit 1; }
command -v promtool >/dev/null || { echo "promtool is required (Debian package prometheus)"; exit 1; }

"$pareto" serve -m "$model" --port 0 --served-model-name stories --api-key test-key \
  --kv-cache-memory 64MiB --shutdown-timeout 60 >"$tmp/server.log" 2>&1 &
server_pid=$!
port=$(server_port "$tmp/server.log" "$server_pid")
grep -q "try: curl" "$tmp/server.log" || { echo "no curl hint in the log"; exit 1; }

# --io-scheduling batch (default): the HTTP I/O thread and the API worker run under SCHED_BATCH
# (policy 3, field 41 of /proc/PID/task/TID/stat), the engine's threads under SCHED_OTHER (0).
policies() { for t in /proc/"$1"/task/*; do sed 's/.*) //' "$t/stat" | awk '{print $39}'; done | sort | uniq -c | tr -s ' '; }
# (The threads set their policy as they start, just after the address is logged.)
for _ in $(seq 1 50); do pol=$(policies "$server_pid"); echo "$pol" | grep -qx ' 2 3' && break; sleep 0.1; done
echo "$pol" | grep -qx ' 2 3' || { echo "expected 2 SCHED_BATCH threads, got: $pol"; exit 1; }
echo "$pol" | grep -qx ' [2-9] 0' || { echo "expected the engine threads under SCHED_OTHER, got: $pol"; exit 1; }

PARETO_URL="http://127.0.0.1:$port/v1" PARETO_MODEL=stories PARETO_API_KEY=test-key \
  node --test "$js/openai_client.test.mjs" || { echo "--- server log:"; tail -50 "$tmp/server.log"; exit 1; }

http() {  # METHOD PATH [BODY]: prints the body; fails on non-2xx
  python3 - "$port" "$@" <<'PY'
import sys, urllib.request
port, method, path = sys.argv[1], sys.argv[2], sys.argv[3]
body = sys.argv[4].encode() if len(sys.argv) > 4 else None
req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method,
                             headers={"Content-Type": "application/json", "Authorization": "Bearer test-key"})
sys.stdout.write(urllib.request.urlopen(req, timeout=120).read().decode())
PY
}
http GET /metrics >"$tmp/metrics.txt"
# promtool parses it; its only lint is the one vLLM's names get too: ':' is reserved for
# recording rules. With the prefix "pareto_" (--metrics-prefix) the same text is lint-clean.
rc=0; promtool check metrics <"$tmp/metrics.txt" >"$tmp/lint.txt" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
  [ "$rc" -eq 3 ] && ! grep -qv "metric names should not contain ':'" "$tmp/lint.txt" \
    || { echo "promtool rejected /metrics (rc $rc):"; cat "$tmp/lint.txt"; cat "$tmp/metrics.txt"; exit 1; }
fi
sed 's/^pareto:/pareto_/; s/^# \(HELP\|TYPE\) pareto:/# \1 pareto_/' "$tmp/metrics.txt" | promtool check metrics \
  || { echo "promtool lint with the pareto_ prefix failed"; exit 1; }
grep -q '^pareto:kv_cache_blocks_used 0$' "$tmp/metrics.txt" || { echo "blocks still in use after the client tests"; exit 1; }
grep -q '^pareto:request_success_total{finished_reason="length"} [1-9]' "$tmp/metrics.txt" || { echo "no finished requests counted"; exit 1; }
grep -q '^pareto:time_to_first_token_seconds_count [1-9]' "$tmp/metrics.txt" || { echo "no TTFT observations"; exit 1; }

# Graceful stop: a long stream in flight when SIGINT arrives still ends with [DONE].
python3 - "$port" >"$tmp/stream.txt" <<'PY' &
import sys, urllib.request, json
port = sys.argv[1]
body = json.dumps({"model": "stories", "prompt": "Once", "max_tokens": 300, "ignore_eos": True, "stream": True}).encode()
req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions", data=body, method="POST",
                             headers={"Content-Type": "application/json", "Authorization": "Bearer test-key"})
with urllib.request.urlopen(req, timeout=120) as r:
    for line in r:
        sys.stdout.write(line.decode()); sys.stdout.flush()
PY
client_pid=$!
for _ in $(seq 1 300); do grep -q '"text"' "$tmp/stream.txt" 2>/dev/null && break; sleep 0.1; done
kill -INT "$server_pid"
wait "$client_pid" || { echo "the in-flight stream failed on shutdown"; exit 1; }
rc=0; wait "$server_pid" || rc=$?
server_pid=""
[ "$rc" -eq 0 ] || { echo "server exited with $rc"; tail -20 "$tmp/server.log"; exit 1; }
grep -q 'data: \[DONE\]' "$tmp/stream.txt" || { echo "stream did not finish"; exit 1; }
grep -q '"finish_reason":"length"' "$tmp/stream.txt" || { echo "stream was cut short"; exit 1; }

# --io-scheduling normal leaves every thread under SCHED_OTHER.
"$pareto" serve -m "$model" --port 0 --kv-cache-memory 16MiB --io-scheduling normal \
  >"$tmp/server2.log" 2>&1 &
server_pid=$!
server_port "$tmp/server2.log" "$server_pid" >/dev/null
# (Checked for a while: the threads would set a policy as they start, just after the log line.)
for _ in $(seq 1 10); do
  pol=$(policies "$server_pid")
  echo "$pol" | grep -q ' 3$' && { echo "--io-scheduling normal left SCHED_BATCH threads: $pol"; exit 1; }
  sleep 0.1
done
kill -INT "$server_pid"; wait "$server_pid"; server_pid=""
if "$pareto" serve -m "$model" --io-scheduling fifo >"$tmp/bad.log" 2>&1; then
  echo "--io-scheduling fifo was accepted"; exit 1
fi
grep -q "io-scheduling" "$tmp/bad.log" || { echo "no error naming --io-scheduling"; cat "$tmp/bad.log"; exit 1; }

# --io-cpus: the HTTP I/O thread and the API worker (the SCHED_BATCH threads) on the CPUs given,
# the engine's threads pinned to the others. Bad lists fail before the model is loaded.
read -r first last num_cpus allowed <<<"$(python3 -c "
import os; c = sorted(os.sched_getaffinity(0)); print(c[0], c[-1], len(c), ','.join(map(str, c)))")"
expect_refused() {  # LIST MESSAGE
  if "$pareto" serve -m "$model" --port 0 --io-cpus "$1" >"$tmp/bad.log" 2>&1; then
    echo "--io-cpus $1 was accepted"; exit 1
  fi
  grep -q "$2" "$tmp/bad.log" || { echo "--io-cpus $1: expected '$2'"; cat "$tmp/bad.log"; exit 1; }
}
expect_refused 1023 "CPU 1023 is not one this process may run on"
expect_refused "$allowed" "leaves no CPU for the engine"
expect_refused 1-0 "runs backwards"
if [ "$num_cpus" -ge 2 ]; then
  "$pareto" serve -m "$model" --port 0 --kv-cache-memory 16MiB --io-cpus "$last" \
    >"$tmp/server3.log" 2>&1 &
  server_pid=$!
  server_port "$tmp/server3.log" "$server_pid" >/dev/null
  grep -q "HTTP I/O and API worker on CPU(s) $last\$" "$tmp/server3.log" \
    || { echo "no log line for --io-cpus"; cat "$tmp/server3.log"; exit 1; }
  # One line per (policy, CPU list) with its thread count, e.g. " 2 3 1" and " 1 0 0".
  placement() { for t in /proc/"$1"/task/*; do
      echo "$(sed 's/.*) //' "$t/stat" | awk '{print $39}') $(sed -n 's/^Cpus_allowed_list:\s*//p' "$t/status")"
    done | sort | uniq -c | tr -s ' '; }
  for _ in $(seq 1 50); do pl=$(placement "$server_pid"); echo "$pl" | grep -qx " 2 3 $last" && break; sleep 0.1; done
  echo "$pl" | grep -qx " 2 3 $last" || { echo "expected the 2 HTTP threads on CPU $last, got: $pl"; exit 1; }
  echo "$pl" | grep -qx " [1-9] 0 $first" || { echo "expected the engine's loop on CPU $first, got: $pl"; exit 1; }
  # The HTTP path works from there.
  port3=$(server_port "$tmp/server3.log" "$server_pid")
  python3 - "$port3" "$model" <<'PY' || { echo "no completion with --io-cpus"; exit 1; }
import json, sys, urllib.request
body = json.dumps({"model": sys.argv[2], "prompt": "Once", "max_tokens": 4}).encode()
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/v1/completions", data=body,
                             headers={"Content-Type": "application/json"})
assert json.load(urllib.request.urlopen(req, timeout=60))["choices"][0]["finish_reason"] in ("length", "stop")
PY
  kill -INT "$server_pid"; wait "$server_pid"; server_pid=""
fi
echo "serve: ok"
