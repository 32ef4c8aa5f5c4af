#include "base/dtype.h"

#include <array>
#include <cctype>
#include <string>

#include "base/error.h"

namespace pareto {
namespace {

struct Entry {
  DType type;
  DTypeTraits traits;
};

// Block sizes and byte sizes follow the GGUF specification.
constexpr std::array<Entry, 20> kTable = {{
    {DType::F32, {"f32", 1, 4, true}},       {DType::F16, {"f16", 1, 2, true}},
    {DType::Q4_0, {"q4_0", 32, 18, true}},   {DType::Q4_1, {"q4_1", 32, 20, true}},
    {DType::Q5_0, {"q5_0", 32, 22, true}},   {DType::Q5_1, {"q5_1", 32, 24, true}},
    {DType::Q8_0, {"q8_0", 32, 34, true}},   {DType::Q8_1, {"q8_1", 32, 36, false}},
    {DType::Q2_K, {"q2_k", 256, 84, false}}, {DType::Q3_K, {"q3_k", 256, 110, false}},
    {DType::Q4_K, {"q4_k", 256, 144, true}}, {DType::Q5_K, {"q5_k", 256, 176, true}},
    {DType::Q6_K, {"q6_k", 256, 210, true}}, {DType::Q8_K, {"q8_k", 256, 292, false}},
    {DType::I8, {"i8", 1, 1, false}},        {DType::I16, {"i16", 1, 2, false}},
    {DType::I32, {"i32", 1, 4, false}},      {DType::I64, {"i64", 1, 8, false}},
    {DType::F64, {"f64", 1, 8, false}},      {DType::BF16, {"bf16", 1, 2, true}},
}};

// traits() sits on hot paths (row strides of every weight row), so index by type value.
constexpr uint32_t kMaxTypeValue = 31;
constexpr std::array<const DTypeTraits*, kMaxTypeValue> kByValue = [] {
  std::array<const DTypeTraits*, kMaxTypeValue> index{};
  for (const auto& e : kTable) index[static_cast<uint32_t>(e.type)] = &e.traits;
  return index;
}();

}  // namespace

std::optional<DTypeTraits> dtype_traits(uint32_t raw) {
  if (raw >= kMaxTypeValue || kByValue[raw] == nullptr) return std::nullopt;
  return *kByValue[raw];
}

const DTypeTraits& traits(DType t) {
  const auto raw = static_cast<uint32_t>(t);
  if (raw >= kMaxTypeValue || kByValue[raw] == nullptr) fail("unknown tensor type {}", raw);
  return *kByValue[raw];
}

std::string_view dtype_name(DType t) {
  return traits(t).name;
}

std::optional<DType> parse_dtype(std::string_view name) {
  std::string lower;
  for (char c : name)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (const auto& e : kTable)
    if (e.traits.name == lower) return e.type;
  return std::nullopt;
}

}  // namespace pareto
