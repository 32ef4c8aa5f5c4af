#include "weights/gguf_value.h"

#include <fmt/format.h>

#include <limits>

#include "base/error.h"

namespace pareto {

std::string_view gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::UINT8:
      return "u8";
    case GgufType::INT8:
      return "i8";
    case GgufType::UINT16:
      return "u16";
    case GgufType::INT16:
      return "i16";
    case GgufType::UINT32:
      return "u32";
    case GgufType::INT32:
      return "i32";
    case GgufType::FLOAT32:
      return "f32";
    case GgufType::BOOL:
      return "bool";
    case GgufType::STRING:
      return "str";
    case GgufType::ARRAY:
      return "arr";
    case GgufType::UINT64:
      return "u64";
    case GgufType::INT64:
      return "i64";
    case GgufType::FLOAT64:
      return "f64";
  }
  return "?";
}

bool gguf_type_is_valid(uint32_t raw) {
  return raw <= static_cast<uint32_t>(GgufType::FLOAT64);
}

GgufValue GgufValue::from_uint(GgufType t, uint64_t v) {
  GgufValue r;
  r.type_ = t;
  r.u_ = v;
  return r;
}

GgufValue GgufValue::from_int(GgufType t, int64_t v) {
  GgufValue r;
  r.type_ = t;
  r.i_ = v;
  return r;
}

GgufValue GgufValue::from_float(GgufType t, double v) {
  GgufValue r;
  r.type_ = t;
  r.f_ = v;
  return r;
}

GgufValue GgufValue::from_bool(bool v) {
  GgufValue r;
  r.type_ = GgufType::BOOL;
  r.u_ = v ? 1 : 0;
  return r;
}

GgufValue GgufValue::from_string(std::string v) {
  GgufValue r;
  r.type_ = GgufType::STRING;
  r.s_ = std::move(v);
  return r;
}

GgufValue GgufValue::from_array(GgufType elem_type, std::vector<GgufValue> elems) {
  GgufValue r;
  r.type_ = GgufType::ARRAY;
  r.elem_type_ = elem_type;
  r.arr_ = std::move(elems);
  return r;
}

static bool is_unsigned(GgufType t) {
  return t == GgufType::UINT8 || t == GgufType::UINT16 || t == GgufType::UINT32 ||
         t == GgufType::UINT64;
}

static bool is_signed(GgufType t) {
  return t == GgufType::INT8 || t == GgufType::INT16 || t == GgufType::INT32 ||
         t == GgufType::INT64;
}

bool GgufValue::is_integer() const {
  return is_unsigned(type_) || is_signed(type_);
}

int64_t GgufValue::as_int() const {
  if (is_signed(type_)) return i_;
  if (is_unsigned(type_)) {
    if (u_ > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail("integer value {} does not fit in int64", u_);
    return static_cast<int64_t>(u_);
  }
  if (type_ == GgufType::BOOL) return static_cast<int64_t>(u_);
  fail("expected an integer, found {}", gguf_type_name(type_));
}

uint64_t GgufValue::as_uint() const {
  if (is_unsigned(type_)) return u_;
  if (is_signed(type_)) {
    if (i_ < 0) fail("expected a non-negative integer, found {}", i_);
    return static_cast<uint64_t>(i_);
  }
  fail("expected an integer, found {}", gguf_type_name(type_));
}

double GgufValue::as_float() const {
  if (is_float()) return f_;
  if (is_signed(type_)) return static_cast<double>(i_);
  if (is_unsigned(type_)) return static_cast<double>(u_);
  fail("expected a number, found {}", gguf_type_name(type_));
}

bool GgufValue::as_bool() const {
  if (type_ == GgufType::BOOL || is_unsigned(type_)) return u_ != 0;
  if (is_signed(type_)) return i_ != 0;
  fail("expected a bool, found {}", gguf_type_name(type_));
}

const std::string& GgufValue::as_string() const {
  if (type_ != GgufType::STRING) fail("expected a string, found {}", gguf_type_name(type_));
  return s_;
}

const std::vector<GgufValue>& GgufValue::as_array() const {
  if (type_ != GgufType::ARRAY) fail("expected an array, found {}", gguf_type_name(type_));
  return arr_;
}

std::vector<std::string> GgufValue::as_string_array() const {
  std::vector<std::string> out;
  out.reserve(as_array().size());
  for (const auto& v : arr_) out.push_back(v.as_string());
  return out;
}

std::vector<float> GgufValue::as_float_array() const {
  std::vector<float> out;
  out.reserve(as_array().size());
  for (const auto& v : arr_) out.push_back(static_cast<float>(v.as_float()));
  return out;
}

std::vector<int64_t> GgufValue::as_int_array() const {
  std::vector<int64_t> out;
  out.reserve(as_array().size());
  for (const auto& v : arr_) out.push_back(v.as_int());
  return out;
}

std::string GgufValue::to_display_string(size_t max_elems) const {
  switch (type_) {
    case GgufType::STRING: {
      std::string s = s_.size() > 80 ? s_.substr(0, 77) + "..." : s_;
      std::string escaped;
      for (char c : s) {
        if (c == '\n')
          escaped += "\\n";
        else if (c == '\t')
          escaped += "\\t";
        else if (c == '"')
          escaped += "\\\"";
        else if (c == '\\')
          escaped += "\\\\";
        else if (static_cast<unsigned char>(c) < 0x20)
          escaped += fmt::format("\\x{:02x}", c);
        else
          escaped += c;
      }
      return "\"" + escaped + "\"";
    }
    case GgufType::ARRAY: {
      std::string out = fmt::format("[{} x {}] [", arr_.size(), gguf_type_name(elem_type_));
      for (size_t i = 0; i < arr_.size() && i < max_elems; ++i) {
        if (i) out += ", ";
        out += arr_[i].to_display_string(max_elems);
      }
      if (arr_.size() > max_elems) out += ", ...";
      return out + "]";
    }
    case GgufType::BOOL:
      return u_ ? "true" : "false";
    // Formatting an f32 through double would print its binary expansion (1e-5 as
    // 9.999999747378752e-06); the shortest float representation is what the file's author wrote.
    case GgufType::FLOAT32:
      return fmt::format("{}", static_cast<float>(f_));
    case GgufType::FLOAT64:
      return fmt::format("{}", f_);
    default:
      return is_signed(type_) ? fmt::format("{}", i_) : fmt::format("{}", u_);
  }
}

}  // namespace pareto
