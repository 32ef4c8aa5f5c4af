# Shared by the command-line tests that start `pareto serve --port 0` (sourced, not run).

# server_port LOG PID: prints the port the server logged ("on http://127.0.0.1:PORT "). Fails,
# printing the log, if the server exits or logs no port within 60 s.
server_port() {
  local log="$1" pid="$2" port=""
  for _ in $(seq 1 600); do
    port=$(sed -n 's|.*on http://127.0.0.1:\([0-9]*\) .*|\1|p' "$log" | head -1)
    [ -n "$port" ] && { echo "$port"; return 0; }
    kill -0 "$pid" 2>/dev/null || { echo "server died:" >&2; cat "$log" >&2; return 1; }
    sleep 0.1
  done
  echo "server did not start:" >&2
  cat "$log" >&2
  return 1
}
