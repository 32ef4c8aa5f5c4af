#!/usr/bin/env bash
# `pareto synth`: small custom shapes in every supported type, checked through `pareto inspect`;
# determinism across thread counts; errors for bad input.
# Usage: synth.sh PARETO_BINARY SOURCE_DIR
set -euo pipefail
pareto="$1"
src="$2"
vocab="$src/models/stories260K.gguf"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_tensor INSPECT_OUTPUT NAME TYPE SHAPE: a tensor-table row with that type and shape.
expect_tensor() {
  local row
  row="$(grep -E "^  $2 " "$1" || true)"
  [[ -n "$row" ]] || fail "tensor $2 missing from $1"
  [[ "$(awk '{print $2}' <<<"$row")" == "$3" ]] || fail "tensor $2: expected type $3 in: $row"
  [[ "$row" == *"$4"* ]] || fail "tensor $2: expected shape $4 in: $row"
}

expect_line() {  # expect_line FILE FIXED_STRING
  grep -qF -- "$2" "$1" || fail "expected '$2' in $1"
}

# hidden 64, 4 heads of 16, 2 KV heads; FFN 80 is not a multiple of 32, so ffn_down (rows of
# 80) must fall back to f16 in the quantized files.
cat >"$tmp/llama.json" <<'EOF'
{"name": "test-llama", "hidden_size": 64, "num_layers": 2, "num_heads": 4, "num_kv_heads": 2,
 "ffn_size": 80, "context_length": 256}
EOF

for type in f32 f16 q8_0 q4_0; do
  out="$tmp/llama-$type.gguf"
  "$pareto" synth --config "$tmp/llama.json" --vocab-from "$vocab" --type "$type" -o "$out" \
    2>"$tmp/synth.err" || { cat "$tmp/synth.err" >&2; fail "synth --type $type"; }
  expect_line "$tmp/synth.err" "[21/21]"  # progress on stderr
  "$pareto" inspect "$out" >"$tmp/inspect.txt"
  i="$tmp/inspect.txt"
  fallback="$type"
  [[ "$type" == q* ]] && fallback=f16
  expect_tensor "$i" token_embd.weight "$type" "[64, 512]"
  expect_tensor "$i" output_norm.weight f32 "[64]"
  expect_tensor "$i" output.weight "$type" "[64, 512]"
  for l in 0 1; do
    expect_tensor "$i" "blk.$l.attn_norm.weight" f32 "[64]"
    expect_tensor "$i" "blk.$l.attn_q.weight" "$type" "[64, 64]"
    expect_tensor "$i" "blk.$l.attn_k.weight" "$type" "[64, 32]"
    expect_tensor "$i" "blk.$l.attn_v.weight" "$type" "[64, 32]"
    expect_tensor "$i" "blk.$l.attn_output.weight" "$type" "[64, 64]"
    expect_tensor "$i" "blk.$l.ffn_norm.weight" f32 "[64]"
    expect_tensor "$i" "blk.$l.ffn_gate.weight" "$type" "[64, 80]"
    expect_tensor "$i" "blk.$l.ffn_up.weight" "$type" "[64, 80]"
    expect_tensor "$i" "blk.$l.ffn_down.weight" "$fallback" "[80, 64]"
  done
  grep -q "blk.2." "$i" && fail "--config asked for 2 layers"
  grep -q "attn_q.bias" "$i" && fail "llama shape must have no biases"
  expect_line "$i" 'general.architecture'
  expect_line "$i" 'llama.block_count                       u32       2'
  expect_line "$i" 'llama.embedding_length'
  expect_line "$i" 'llama.attention.head_count_kv           u32       2'
  expect_line "$i" 'llama.vocab_size                        u32       512'
  expect_line "$i" 'llama.context_length                    u32       256'
  expect_line "$i" 'general.alignment'
  expect_line "$i" 'general.file_type'
  # Tokenizer metadata is copied from the vocabulary file.
  expect_line "$i" 'tokenizer.ggml.tokens                   arr[str]  [512 x str] ["<unk>"'
  expect_line "$i" 'tokenizer.ggml.model                    str       "llama"'
  expect_line "$i" 'tokenizer.ggml.bos_token_id'
done

# Qwen2 shape: Q/K/V biases (f32), tied embeddings (no output.weight), its own metadata prefix.
cat >"$tmp/qwen.json" <<'EOF'
{"name": "test-qwen", "architecture": "qwen2", "hidden_size": 64, "num_layers": 1,
 "num_heads": 4, "num_kv_heads": 1, "ffn_size": 96, "tied_embeddings": true, "qkv_bias": true,
 "rope_freq_base": 1000000, "rms_eps": 1e-6}
EOF
"$pareto" synth --config "$tmp/qwen.json" --vocab-from "$vocab" --type q8_0 -o "$tmp/qwen.gguf" \
  2>/dev/null
"$pareto" inspect "$tmp/qwen.gguf" >"$tmp/qwen.txt"
expect_tensor "$tmp/qwen.txt" blk.0.attn_q.bias f32 "[64]"
expect_tensor "$tmp/qwen.txt" blk.0.attn_k.bias f32 "[16]"
expect_tensor "$tmp/qwen.txt" blk.0.attn_v.bias f32 "[16]"
expect_tensor "$tmp/qwen.txt" blk.0.ffn_down.weight q8_0 "[96, 64]"
grep -qE "^  output\.weight " "$tmp/qwen.txt" && fail "tied embeddings must have no output.weight"
expect_line "$tmp/qwen.txt" '"qwen2"'
expect_line "$tmp/qwen.txt" 'qwen2.rope.freq_base                    f32       1000000'
expect_line "$tmp/qwen.txt" 'qwen2.attention.layer_norm_rms_epsilon  f32       1e-06'

# A built-in shape with --layers: SmolLM-135M's widths, 1 layer.
"$pareto" synth --shape llama-135m --layers 1 --vocab-from "$vocab" --type q4_0 \
  -o "$tmp/smol.gguf" 2>/dev/null
"$pareto" inspect "$tmp/smol.gguf" >"$tmp/smol.txt"
expect_tensor "$tmp/smol.txt" blk.0.attn_k.weight q4_0 "[576, 192]"
expect_tensor "$tmp/smol.txt" blk.0.ffn_down.weight q4_0 "[1536, 576]"
expect_line "$tmp/smol.txt" 'llama.block_count                       u32       1'
grep -qE "^  output\.weight " "$tmp/smol.txt" && fail "llama-135m has tied embeddings"

# Same seed, different thread counts: identical files. Another seed: different weights.
for threads in 1 3; do
  "$pareto" synth --config "$tmp/llama.json" --vocab-from "$vocab" --type q4_0 --seed 42 \
    --threads "$threads" -o "$tmp/det-$threads.gguf" 2>/dev/null
done
cmp -s "$tmp/det-1.gguf" "$tmp/det-3.gguf" || fail "output depends on the thread count"
"$pareto" synth --config "$tmp/llama.json" --vocab-from "$vocab" --type q4_0 --seed 43 \
  -o "$tmp/det-other.gguf" 2>/dev/null
cmp -s "$tmp/det-1.gguf" "$tmp/det-other.gguf" && fail "--seed has no effect"

# Bad input: exit code 1 and a message naming the problem.
expect_error() {  # expect_error PATTERN ARGS...
  local pattern="$1"
  shift
  if "$pareto" synth "$@" >/dev/null 2>"$tmp/err.txt"; then fail "synth $* succeeded"; fi
  grep -qF -- "$pattern" "$tmp/err.txt" || { cat "$tmp/err.txt" >&2; fail "expected '$pattern'"; }
}
expect_error "unknown shape 'nope'" --shape nope --vocab-from "$vocab" --type f32 -o "$tmp/x.gguf"
expect_error "unsupported --type" --shape llama-135m --vocab-from "$vocab" --type q9 \
  -o "$tmp/x.gguf"
echo '{"hidden_size": 64, "num_layers": 1, "num_heads": 3, "ffn_size": 64}' >"$tmp/bad.json"
expect_error "num_heads" --config "$tmp/bad.json" --vocab-from "$vocab" --type f32 -o "$tmp/x.gguf"
echo '{"hidden_size": 64, "num_layers": 1, "num_heads": 4, "ffn": 64}' >"$tmp/typo.json"
expect_error "unknown field 'ffn'" --config "$tmp/typo.json" --vocab-from "$vocab" --type f32 \
  -o "$tmp/x.gguf"
expect_error "$tmp/none.gguf" --config "$tmp/llama.json" --vocab-from "$tmp/none.gguf" \
  --type f32 -o "$tmp/x.gguf"
expect_error "--shape or --config" --vocab-from "$vocab" --type f32 -o "$tmp/x.gguf"
expect_error "$tmp/no-such-dir/x.gguf" --config "$tmp/llama.json" --vocab-from "$vocab" \
  --type f32 -o "$tmp/no-such-dir/x.gguf"
[[ -e "$tmp/x.gguf" ]] && fail "a failed synth left an output file"

echo "synth.sh: all checks passed"
