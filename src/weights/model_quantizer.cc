#include "weights/model_quantizer.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "base/error.h"
#include "weights/dequantize.h"
#include "weights/gguf_file.h"
#include "weights/gguf_writer.h"
#include "weights/quantize.h"

namespace pareto {
namespace {

struct SchemeInfo {
  QuantScheme scheme;
  std::string_view name;
  DType matrix_type;  // the type most matrices get
  uint32_t file_type;
};

constexpr std::array<SchemeInfo, 7> kSchemes{{
    {QuantScheme::F32, "f32", DType::F32, 0},
    {QuantScheme::F16, "f16", DType::F16, 1},
    {QuantScheme::BF16, "bf16", DType::BF16, 32},
    {QuantScheme::Q8_0, "q8_0", DType::Q8_0, 7},
    {QuantScheme::Q4_0, "q4_0", DType::Q4_0, 2},
    {QuantScheme::Q4_K_M, "q4_k_m", DType::Q4_K, 15},
    {QuantScheme::Q6_K, "q6_k", DType::Q6_K, 18},
}};

const SchemeInfo& info(QuantScheme s) {
  for (const auto& i : kSchemes)
    if (i.scheme == s) return i;
  fail("quantize: unknown scheme {}", static_cast<int>(s));
}

bool is_block_quantized(DType t) {
  return traits(t).block_elems > 1;
}

bool is_float_type(DType t) {
  switch (t) {
    case DType::I8:
    case DType::I16:
    case DType::I32:
    case DType::I64:
    case DType::F64:
      return false;
    default:
      return true;
  }
}

// "blk.12.ffn_down.weight" -> 12; -1 when the name is not a layer tensor.
int64_t layer_of(const std::string& name) {
  constexpr std::string_view kPrefix = "blk.";
  if (name.rfind(kPrefix, 0) != 0) return -1;
  int64_t idx = -1;
  const char* first = name.data() + kPrefix.size();
  const char* last = name.data() + name.size();
  const auto [end, ec] = std::from_chars(first, last, idx);
  if (ec != std::errc() || end == last || *end != '.') return -1;
  return idx;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int64_t count_suffix(const GgufFile& in, std::string_view suffix) {
  return std::count_if(in.tensors().begin(), in.tensors().end(),
                       [&](const GgufTensorInfo& t) { return ends_with(t.name, suffix); });
}

// The type Q4_K_M asks for a matrix (before any fallback).
DType q4_k_m_type(const std::string& name, bool tied, int64_t num_ffn_down, int64_t num_attn_v) {
  if (name == "output.weight" || (tied && name == "token_embd.weight")) return DType::Q6_K;
  const int64_t layer = layer_of(name);
  if (layer >= 0 && ends_with(name, ".ffn_down.weight") && layer < num_ffn_down &&
      use_more_bits(layer, num_ffn_down))
    return DType::Q6_K;
  if (layer >= 0 && ends_with(name, ".attn_v.weight") && layer < num_attn_v &&
      use_more_bits(layer, num_attn_v))
    return DType::Q6_K;
  return DType::Q4_K;
}

// Q8_0 keeps most of a K-quant's accuracy where its 32-element blocks fit; otherwise F16,
// which any row length fits.
DType fallback_type(DType wanted, int64_t row_len) {
  if (wanted != DType::Q8_0 && is_block_quantized(wanted) &&
      row_len % traits(DType::Q8_0).block_elems == 0)
    return DType::Q8_0;
  return DType::F16;
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (std::filesystem::exists(b, ec) && std::filesystem::equivalent(a, b, ec)) return true;
  const auto ca = std::filesystem::weakly_canonical(a, ec);
  const auto cb = std::filesystem::weakly_canonical(b, ec);
  return !ec && ca == cb;
}

// Converts every row of one tensor from plan.from to plan.to. dst: plan.out_bytes bytes.
void convert_tensor(const GgufTensorInfo& src, const TensorQuantPlan& plan, uint8_t* dst,
                    ThreadPool& pool) {
  if (plan.copied()) {
    std::memcpy(dst, src.data, plan.out_bytes);
    return;
  }
  const int64_t cols = plan.shape[0];
  const int64_t rows = src.num_elements() / cols;
  const size_t in_row = row_bytes(plan.from, cols);
  const size_t out_row = row_bytes(plan.to, cols);
  // Enough elements per task that handing work to a thread stays cheap next to converting it.
  const int64_t grain = std::max<int64_t>(1, 65536 / cols);
  pool.parallel_for(
      rows,
      [&](int64_t begin, int64_t end, int) {
        std::vector<float> row(static_cast<size_t>(cols));
        for (int64_t r = begin; r < end; ++r) {
          const uint8_t* in = src.data + static_cast<size_t>(r) * in_row;
          uint8_t* out = dst + static_cast<size_t>(r) * out_row;
          if (plan.from == DType::F32) {
            std::memcpy(row.data(), in, in_row);  // the mapping may not be float-aligned
          } else {
            dequantize_row(plan.from, in, row.data(), cols);
          }
          quantize_row(plan.to, row.data(), out, cols);
        }
      },
      grain);
}

}  // namespace

std::optional<QuantScheme> parse_quant_scheme(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& i : kSchemes)
    if (i.name == lower) return i.scheme;
  return std::nullopt;
}

std::string_view quant_scheme_name(QuantScheme s) {
  return info(s).name;
}

std::string quant_scheme_names() {
  std::string out;
  for (const auto& i : kSchemes) {
    if (!out.empty()) out += ", ";
    out += i.name;
  }
  return out;
}

uint32_t llama_file_type(QuantScheme s) {
  return info(s).file_type;
}

bool use_more_bits(int64_t layer_idx, int64_t num_layers) {
  return layer_idx < num_layers / 8 || layer_idx >= 7 * num_layers / 8 ||
         (layer_idx - num_layers / 8) % 3 == 2;
}

QuantPlan plan_quantization(const GgufFile& in, QuantScheme scheme) {
  QuantPlan plan;
  plan.scheme = scheme;
  const DType matrix_type = info(scheme).matrix_type;
  const bool tied = in.find_tensor("output.weight") == nullptr;
  const int64_t num_ffn_down = count_suffix(in, ".ffn_down.weight");
  const int64_t num_attn_v = count_suffix(in, ".attn_v.weight");

  for (const GgufTensorInfo& t : in.tensors()) {
    TensorQuantPlan p;
    p.name = t.name;
    p.shape = t.shape;
    p.from = t.type;
    if (!is_float_type(t.type)) {
      p.wanted = p.to = t.type;
    } else {
      if (!can_dequantize(t.type))
        fail("{}: tensor '{}' is stored as {}, which cannot be dequantized", in.path(), t.name,
             dtype_name(t.type));
      if (t.shape.size() < 2) {
        p.wanted = DType::F32;
      } else if (scheme == QuantScheme::Q4_K_M) {
        p.wanted = q4_k_m_type(t.name, tied, num_ffn_down, num_attn_v);
      } else {
        p.wanted = matrix_type;
      }
      p.to = t.shape[0] % traits(p.wanted).block_elems == 0 ? p.wanted
                                                            : fallback_type(p.wanted, t.shape[0]);
      if (is_block_quantized(t.type) && p.to != t.type) plan.requantizes = true;
    }
    p.in_bytes = t.num_bytes;
    p.out_bytes = GgufWriter::tensor_bytes(t.name, t.shape, p.to);
    plan.in_bytes += p.in_bytes;
    plan.out_bytes += p.out_bytes;
    plan.tensors.push_back(std::move(p));
  }
  return plan;
}

void write_quantized_model(const GgufFile& in, const QuantPlan& plan, const std::string& out_path,
                           ThreadPool& pool, const QuantizeProgress& progress) {
  if (same_file(in.path(), out_path))
    fail("quantize: the output '{}' is the input file; choose another path", out_path);
  if (plan.tensors.size() != in.tensors().size())
    fail("quantize: the plan has {} tensors but '{}' has {}", plan.tensors.size(), in.path(),
         in.tensors().size());

  const bool quantized = std::any_of(plan.tensors.begin(), plan.tensors.end(),
                                     [](const auto& t) { return is_block_quantized(t.to); });
  GgufWriter w;
  for (const auto& [key, value] : in.metadata()) {
    // Describes the quantization format; meaningless when nothing is block-quantized.
    if (key == "general.quantization_version" && !quantized) continue;
    w.set(key, value);
  }
  w.set_u32("general.file_type", llama_file_type(plan.scheme));
  if (quantized) w.set_u32("general.quantization_version", 2);

  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const TensorQuantPlan& p = plan.tensors[i];
    const GgufTensorInfo& src = in.tensors()[i];
    if (src.name != p.name)
      fail("quantize: the plan's tensor {} is '{}' but '{}' has '{}'", i, p.name, in.path(),
           src.name);
    w.add_tensor(p.name, p.shape, p.to, [&src, &p, &pool](uint8_t* dst, size_t num_bytes) {
      if (num_bytes != p.out_bytes)
        fail("quantize: '{}' needs {} bytes, writer gave {}", p.name, p.out_bytes, num_bytes);
      convert_tensor(src, p, dst, pool);
    });
  }

  std::vector<uint64_t> done_before(plan.tensors.size() + 1, 0);
  for (size_t i = 0; i < plan.tensors.size(); ++i)
    done_before[i + 1] = done_before[i] + plan.tensors[i].out_bytes;
  w.write(out_path, [&](size_t i, size_t n, const std::string&) {
    if (progress) progress(i, n, plan.tensors[i], done_before[i]);
  });
}

}  // namespace pareto
