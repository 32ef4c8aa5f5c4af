// A GGUF metadata value: one of the scalar types, a string, or an array (possibly nested).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pareto {

// Value type codes as stored in GGUF files.
enum class GgufType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};

std::string_view gguf_type_name(GgufType t);
bool gguf_type_is_valid(uint32_t raw);

class GgufValue {
 public:
  GgufValue() = default;
  static GgufValue from_uint(GgufType t, uint64_t v);
  static GgufValue from_int(GgufType t, int64_t v);
  static GgufValue from_float(GgufType t, double v);
  static GgufValue from_bool(bool v);
  static GgufValue from_string(std::string v);
  static GgufValue from_array(GgufType elem_type, std::vector<GgufValue> elems);

  GgufType type() const { return type_; }
  GgufType elem_type() const { return elem_type_; }  // only for arrays
  bool is_integer() const;
  bool is_float() const { return type_ == GgufType::FLOAT32 || type_ == GgufType::FLOAT64; }
  bool is_string() const { return type_ == GgufType::STRING; }
  bool is_array() const { return type_ == GgufType::ARRAY; }

  // Accessors throw pareto::Error on a type mismatch (integers convert to floats, and between
  // signed and unsigned when the value fits).
  int64_t as_int() const;
  uint64_t as_uint() const;
  double as_float() const;
  bool as_bool() const;
  const std::string& as_string() const;
  const std::vector<GgufValue>& as_array() const;
  std::vector<std::string> as_string_array() const;
  std::vector<float> as_float_array() const;
  std::vector<int64_t> as_int_array() const;

  // Short human-readable rendering (long arrays are abbreviated) for `pareto inspect`.
  std::string to_display_string(size_t max_elems = 8) const;

 private:
  GgufType type_ = GgufType::UINT8;
  GgufType elem_type_ = GgufType::UINT8;
  uint64_t u_ = 0;
  int64_t i_ = 0;
  double f_ = 0.0;
  std::string s_;
  std::vector<GgufValue> arr_;
};

}  // namespace pareto
