#!/usr/bin/env bash
# `pareto tokenize` on the bundled model and on a vocabulary-only file.
# Usage: tokenize.sh PARETO_BINARY SOURCE_DIR
set -euo pipefail
pareto="$1"
src="$2"
ref="${PARETO_SHARED_DIR:-$src/../shared}/reference/tokenizer"
status=0

expect() {  # expect NAME EXPECTED ACTUAL
  if [[ "$2" != "$3" ]]; then
    echo "FAIL $1: expected '$2', got '$3'" >&2
    status=1
  else
    echo "ok   $1"
  fi
}

expect "stories260K with BOS" "1 403 407 261 378" \
  "$("$pareto" tokenize -m "$src/models/stories260K.gguf" "Once upon a time")"
expect "stories260K --no-bos" "403 407 261 378" \
  "$("$pareto" tokenize -m "$src/models/stories260K.gguf" --no-bos "Once upon a time")"
expect "special tokens parsed" "1 1 403" \
  "$("$pareto" tokenize -m "$src/models/stories260K.gguf" "<s>Once")"
if "$pareto" tokenize -m "$src/models/stories260K.gguf" --no-parse-special "<s>Once" \
  | grep -qE '^1 1 '; then
  echo "FAIL --no-parse-special still turned <s> into the BOS id" >&2
  status=1
fi
pieces="$("$pareto" tokenize -m "$src/models/stories260K.gguf" --pieces "Once upon")"
expect "--pieces" $'1 403 407\n1 \'<s>\'\n403 \' Once\'\n407 \' upon\'' "$pieces"

if [[ -f "$ref/ggml-vocab-gpt-2.gguf" ]]; then
  expect "gpt-2 vocabulary-only file" "15496 11 995 0" \
    "$("$pareto" tokenize -m "$ref/ggml-vocab-gpt-2.gguf" "Hello, world!")"
fi

if "$pareto" tokenize -m /nonexistent.gguf "x" 2>/dev/null; then
  echo "FAIL a missing model file did not fail" >&2
  status=1
fi
exit $status
