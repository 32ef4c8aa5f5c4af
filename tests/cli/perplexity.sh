#!/usr/bin/env bash
# `pareto perplexity` on TinyStories-like text gives a low, finite perplexity for the bundled
# model, and a clear error for too little text.
set -euo pipefail
pareto="$1"; src="$2"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 - "$src" > "$tmp/text.txt" <<'PY'
import json, sys
src = sys.argv[1]
parts = []
for i in range(1, 5):
    c = json.load(open(f"{src}/../shared/reference/stories260K/case{i}.json"))
    parts.append(c["prompt"] + c["greedy_text"])
print(" ".join(parts * 3))
PY
out=$("$pareto" --log-level warn perplexity -m "$src/models/stories260K.gguf" -f "$tmp/text.txt" -c 128 2>/dev/null)
echo "$out"
ppl=$(echo "$out" | sed -n 's/^Final estimate: PPL = \([0-9.]*\).*/\1/p')
python3 -c "import sys; p=float(sys.argv[1]); sys.exit(0 if 1.0 < p < 10.0 else 1)" "$ppl" \
  || { echo "implausible perplexity $ppl"; exit 1; }
echo "Once upon a time" > "$tmp/short.txt"
set +e
"$pareto" perplexity -m "$src/models/stories260K.gguf" -f "$tmp/short.txt" -c 128 >/dev/null 2>&1; rc=$?
set -e
[ $rc -eq 1 ] || { echo "short text: exit code $rc"; exit 1; }
echo "perplexity: ok"
