#!/usr/bin/env bash
# `pareto quantize`: the bundled model quantized to every type still generates, the files pass
# an independent GGUF layout check (written here from the spec, not with our reader), and bad
# input fails with `error:` and exit code 1.
set -euo pipefail
pareto="$1"; src="$2"
model="$src/models/stories260K.gguf"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Parses a GGUF file with Python alone and checks what other readers rely on: header, metadata,
# tensor infos, data section aligned to general.alignment, every tensor offset aligned, sizes
# matching the type's block layout, tensors in order without overlap, within the file.
cat > "$tmp/check_gguf.py" <<'PY'
import struct, sys
path, want_ftype = sys.argv[1], int(sys.argv[2])
data = open(path, "rb").read()
pos = 0
def take(fmt):
    global pos
    v = struct.unpack_from("<" + fmt, data, pos); pos += struct.calcsize("<" + fmt); return v[0]
def string():
    global pos
    n = take("Q"); s = data[pos:pos + n].decode("utf-8"); pos += n; return s
SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
def value(t):
    if t == 8: return string()
    if t == 9:
        et = take("I"); n = take("Q"); return [value(et) for _ in range(n)]
    return take(SCALARS[t])
assert take("I") == 0x46554747, "bad magic"
assert take("I") == 3, "not GGUF v3"
n_tensors, n_kv = take("Q"), take("Q")
kv = {}
for _ in range(n_kv):
    k = string(); kv[k] = value(take("I"))
align = kv.get("general.alignment", 32)
assert kv["general.file_type"] == want_ftype, ("file_type", kv["general.file_type"], want_ftype)
assert len(kv["tokenizer.ggml.tokens"]) == 512
LAYOUT = {0: (1, 4), 1: (1, 2), 2: (32, 18), 8: (32, 34), 12: (256, 144), 14: (256, 210), 30: (1, 2)}
infos = []
for _ in range(n_tensors):
    name = string(); dims = [take("Q") for _ in range(take("I"))]; t = take("I"); off = take("Q")
    infos.append((name, dims, t, off))
data_start = (pos + align - 1) // align * align
end = 0
for name, dims, t, off in infos:
    elems, nbytes = LAYOUT[t]
    n = 1
    for d in dims: n *= d
    assert dims[0] % elems == 0, (name, dims, t)
    size = n // elems * nbytes
    assert off % align == 0, (name, off)
    assert off >= end, ("overlap or out of order", name)
    end = off + size
assert data_start + end <= len(data), "tensor data past the end of the file"
print(len(infos), sorted({t for _, _, t, _ in infos}))
PY

declare -A ftype=([q8_0]=7 [q4_0]=2 [q4_k_m]=15 [q6_k]=18 [f16]=1 [bf16]=32)
for t in q8_0 q4_0 q4_k_m q6_k f16 bf16; do
  "$pareto" --log-level warn quantize "$model" "$tmp/$t.gguf" --type "$t" -t 2 2>"$tmp/$t.err"
  grep -q "quantize: \[48/48\]" "$tmp/$t.err" || { echo "$t: no progress display"; cat "$tmp/$t.err"; exit 1; }
  python3 "$tmp/check_gguf.py" "$tmp/$t.gguf" "${ftype[$t]}" >/dev/null || { echo "$t: layout check failed"; exit 1; }
  out=$("$pareto" --log-level warn generate -m "$tmp/$t.gguf" -p "Once upon a time" -n 30 --temp 0 2>/dev/null)
  [ ${#out} -gt 40 ] || { echo "$t: generated too little: $out"; exit 1; }
done
# Type names are case-insensitive; 8-bit output of the bundled model is still the reference text.
"$pareto" --log-level warn quantize "$model" "$tmp/upper.gguf" --type Q8_0 2>/dev/null
cmp -s "$tmp/upper.gguf" "$tmp/q8_0.gguf" || { echo "--type Q8_0 differs from q8_0"; exit 1; }
# Re-quantizing a quantized model warns.
err=$("$pareto" quantize "$tmp/q8_0.gguf" "$tmp/re.gguf" --type q4_0 2>&1 >/dev/null)
echo "$err" | grep -q "already quantized" || { echo "no re-quantization warning: $err"; exit 1; }
# Fallbacks are logged.
err=$("$pareto" quantize "$model" "$tmp/k.gguf" --type q4_k_m 2>&1 >/dev/null)
echo "$err" | grep -q "not whole q4_k blocks; stored as q8_0" || { echo "no fallback log: $err"; exit 1; }

expect_error() {  # expect_error WHAT PATTERN ARGS...
  local what="$1" pattern="$2"; shift 2
  set +e
  err=$("$pareto" quantize "$@" 2>&1 >/dev/null); rc=$?
  set -e
  [ $rc -eq 1 ] || { echo "$what: exit code $rc"; exit 1; }
  echo "$err" | grep -q "^error: .*$pattern" || { echo "$what: unexpected stderr: $err"; exit 1; }
}
expect_error "missing input" "does-not-exist.gguf" "$src/models/does-not-exist.gguf" "$tmp/x.gguf" --type q8_0
expect_error "unknown type" "unknown --type 'q3_x'" "$model" "$tmp/x.gguf" --type q3_x
cp "$model" "$tmp/self.gguf"
expect_error "output = input" "is the input file" "$tmp/self.gguf" "$tmp/self.gguf" --type q8_0
expect_error "output = input (other spelling)" "is the input file" "$tmp/self.gguf" "$tmp/./self.gguf" --type q8_0
cmp -s "$model" "$tmp/self.gguf" || { echo "the input was modified"; exit 1; }
echo "not a gguf file" > "$tmp/junk.gguf"
expect_error "not GGUF" "junk.gguf" "$tmp/junk.gguf" "$tmp/x.gguf" --type q8_0
[ ! -e "$tmp/x.gguf" ] || { echo "a failed run left an output file"; exit 1; }
echo "quantize: ok"
