#!/usr/bin/env bash
# `pareto inspect` on the bundled model, and on a truncated copy of it (must fail cleanly).
# Usage: inspect.sh PARETO_BINARY SOURCE_DIR
set -euo pipefail
pareto="$1"
src="$2"
model="$src/models/stories260K.gguf"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

check() {  # check FILE PATTERN: the file must contain the fixed string
  if ! grep -qF -- "$2" "$1"; then
    echo "FAIL: expected '$2' in output:" >&2
    cat "$1" >&2
    exit 1
  fi
}

"$pareto" inspect "$model" >"$tmp/out.txt"
check "$tmp/out.txt" "general.architecture"
check "$tmp/out.txt" '"llama"'
check "$tmp/out.txt" "token_embd.weight"
check "$tmp/out.txt" "[64, 512]"
check "$tmp/out.txt" "version:     3"
check "$tmp/out.txt" "1e-05"
check "$tmp/out.txt" ", ...]"  # long arrays are abbreviated by default

# --all prints every element: the last token of the 512-entry vocabulary appears.
last_token_line="$("$pareto" inspect --all "$model" | grep '^  tokenizer.ggml.tokens')"
if [[ "$last_token_line" == *", ...]"* ]]; then
  echo "FAIL: --all still abbreviates arrays" >&2
  exit 1
fi

# A file cut inside the metadata: exit code 1, the error names the file.
head -c 5000 "$model" >"$tmp/cut.gguf"
set +e
"$pareto" inspect "$tmp/cut.gguf" >"$tmp/cut.out" 2>"$tmp/cut.err"
rc=$?
set -e
if [[ $rc -ne 1 ]]; then
  echo "FAIL: truncated file gave exit code $rc, expected 1" >&2
  cat "$tmp/cut.err" >&2
  exit 1
fi
check "$tmp/cut.err" "$tmp/cut.gguf"
check "$tmp/cut.err" "error:"

# Cut inside the tensor data: also rejected, naming the file and the tensor problem.
head -c 600000 "$model" >"$tmp/cut2.gguf"
if "$pareto" inspect "$tmp/cut2.gguf" >/dev/null 2>"$tmp/cut2.err"; then
  echo "FAIL: file truncated in the data section was accepted" >&2
  exit 1
fi
check "$tmp/cut2.err" "$tmp/cut2.gguf"
check "$tmp/cut2.err" "truncated"

# A missing file names the path too.
if "$pareto" inspect "$tmp/missing.gguf" >/dev/null 2>"$tmp/missing.err"; then
  echo "FAIL: missing file was accepted" >&2
  exit 1
fi
check "$tmp/missing.err" "$tmp/missing.gguf"

echo "inspect.sh: all checks passed"
