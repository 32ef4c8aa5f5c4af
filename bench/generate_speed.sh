#!/usr/bin/env bash
# Median prefill and decode speed of `pareto generate` over several runs.
# usage: bench/generate_speed.sh PARETO_BINARY MODEL [RUNS=5] [PROMPT_REPEAT=14] [N=64] [THREADS=2]
# The prompt is "the quick brown fox jumps over the lazy dog" repeated PROMPT_REPEAT times
# (155 tokens with BOS for a Llama SentencePiece vocabulary); generation ignores EOS.
set -euo pipefail
pareto="$1"; model="$2"; runs="${3:-5}"; repeat="${4:-14}"; n="${5:-64}"; threads="${6:-2}"
prompt=$(python3 -c "import sys; print(' '.join(['the quick brown fox jumps over the lazy dog'] * int(sys.argv[1])))" "$repeat")
for _ in $(seq "$runs"); do
  "$pareto" --log-level warn generate -m "$model" -p "$prompt" -n "$n" --ignore-eos --temp 0 -t "$threads" 2>&1 >/dev/null \
    | sed -n 's/^prompt: \([0-9]*\) tokens.*(\([0-9.]*\) tok\/s) | generated: \([0-9]*\) tokens.*(\([0-9.]*\) tok\/s)$/\1 \2 \3 \4/p'
done | python3 -c '
import statistics, sys
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
if not rows: sys.exit("no measurements parsed")
p = statistics.median(r[1] for r in rows); d = statistics.median(r[3] for r in rows)
print(f"prompt {int(rows[0][0])} tokens: prefill median {p:.1f} tok/s | {int(rows[0][2])} generated: decode median {d:.1f} tok/s ({len(rows)} runs)")
'
