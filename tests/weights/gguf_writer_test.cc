#include "weights/gguf_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "base/error.h"
#include "support/test_paths.h"
#include "weights/gguf_file.h"

namespace pareto {
namespace {

namespace fs = std::filesystem;

// Deep equality, including the exact type codes, which the public accessors would blur.
void expect_same_value(const GgufValue& a, const GgufValue& b, const std::string& where) {
  SCOPED_TRACE(where);
  ASSERT_EQ(a.type(), b.type());
  switch (a.type()) {
    case GgufType::STRING:
      EXPECT_EQ(a.as_string(), b.as_string());
      break;
    case GgufType::BOOL:
      EXPECT_EQ(a.as_bool(), b.as_bool());
      break;
    case GgufType::FLOAT32:
    case GgufType::FLOAT64:
      if (std::isnan(a.as_float())) {
        EXPECT_TRUE(std::isnan(b.as_float()));
      } else {
        EXPECT_EQ(a.as_float(), b.as_float());
      }
      break;
    case GgufType::ARRAY: {
      ASSERT_EQ(a.elem_type(), b.elem_type());
      ASSERT_EQ(a.as_array().size(), b.as_array().size());
      for (size_t i = 0; i < a.as_array().size(); ++i)
        expect_same_value(a.as_array()[i], b.as_array()[i], where + "[" + std::to_string(i) + "]");
      break;
    }
    case GgufType::UINT8:
    case GgufType::UINT16:
    case GgufType::UINT32:
    case GgufType::UINT64:
      EXPECT_EQ(a.as_uint(), b.as_uint());
      break;
    default:
      EXPECT_EQ(a.as_int(), b.as_int());
      break;
  }
}

GgufValue arr(GgufType t, std::vector<GgufValue> v) {
  return GgufValue::from_array(t, std::move(v));
}

// One key of every value type, with edge values, plus nested and empty arrays.
void add_every_value_type(GgufWriter& w) {
  using T = GgufType;
  w.set("t.u8", GgufValue::from_uint(T::UINT8, 255));
  w.set("t.i8", GgufValue::from_int(T::INT8, -128));
  w.set("t.u16", GgufValue::from_uint(T::UINT16, 65535));
  w.set("t.i16", GgufValue::from_int(T::INT16, -32768));
  w.set_u32("t.u32", 4000000000u);
  w.set_i32("t.i32", std::numeric_limits<int32_t>::min());
  w.set_u64("t.u64", std::numeric_limits<uint64_t>::max());
  w.set("t.i64", GgufValue::from_int(T::INT64, std::numeric_limits<int64_t>::min()));
  w.set_f32("t.f32", 1.5e-6f);
  w.set("t.f64", GgufValue::from_float(T::FLOAT64, 3.141592653589793));
  w.set("t.f32_inf", GgufValue::from_float(T::FLOAT32, std::numeric_limits<float>::infinity()));
  w.set("t.f32_nan", GgufValue::from_float(T::FLOAT32, std::nan("")));
  w.set_bool("t.true", true);
  w.set_bool("t.false", false);
  w.set_string("t.str", "hello \"world\"\n\xe2\x96\x81");
  w.set_string("t.empty_str", "");
  w.set_string("t.nul_str", std::string("a\0b", 3));
  w.set_string_array("t.str_arr", {"<unk>", "", "\xe2\x96\x81the", std::string(300, 'x')});
  w.set_f32_array("t.f32_arr", {0.0f, -1.0f, 1e30f});
  w.set_i32_array("t.i32_arr", {1, -2, 3});
  w.set("t.empty_arr", arr(T::UINT8, {}));
  w.set("t.bool_arr", arr(T::BOOL, {GgufValue::from_bool(true), GgufValue::from_bool(false)}));
  w.set("t.u64_arr", arr(T::UINT64, {GgufValue::from_uint(T::UINT64, 1ull << 63)}));
  w.set("t.f64_arr", arr(T::FLOAT64, {GgufValue::from_float(T::FLOAT64, -0.25)}));
  w.set("t.i16_arr", arr(T::INT16, {GgufValue::from_int(T::INT16, -7)}));
  w.set("t.nested",
        arr(T::ARRAY, {arr(T::INT32, {GgufValue::from_int(T::INT32, 1)}),
                       arr(T::STRING, {GgufValue::from_string("a"), GgufValue::from_string("bc")}),
                       arr(T::ARRAY, {arr(T::UINT8, {})})}));
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 31);
  return v;
}

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  DType type;
};

const std::vector<TensorSpec>& tensor_specs() {
  static const std::vector<TensorSpec> specs = {
      {"a.f32", {3, 5}, DType::F32},     {"b.f16", {7}, DType::F16},
      {"c.q8_0", {64, 3}, DType::Q8_0},  {"d.q4_0", {32, 1, 2}, DType::Q4_0},
      {"e.q4_k", {256, 2}, DType::Q4_K}, {"f.bf16", {1, 1, 1, 3}, DType::BF16},
      {"g.i8", {13}, DType::I8},
  };
  return specs;
}

std::string round_trip_path(uint32_t version, uint32_t alignment) {
  return test::scratch_dir() + "/writer_v" + std::to_string(version) + "_a" +
         std::to_string(alignment) + ".gguf";
}

void check_round_trip(uint32_t version, uint32_t alignment) {
  GgufWriter w(version);
  add_every_value_type(w);
  if (alignment != 32) w.set_alignment(alignment);
  uint8_t seed = 1;
  for (const auto& s : tensor_specs()) {
    const auto bytes = pattern(GgufWriter::tensor_bytes(s.name, s.shape, s.type), seed++);
    w.add_tensor(s.name, s.shape, s.type, bytes);
  }
  // One tensor produced by a callback, as synth does it.
  w.add_tensor("h.fill", {4, 4}, DType::F32, [](uint8_t* dst, size_t n) {
    for (size_t i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(i);
  });
  const std::string path = round_trip_path(version, alignment);
  w.write(path);

  GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.version(), version);
  EXPECT_EQ(f.alignment(), alignment);
  EXPECT_EQ(f.data_offset() % alignment, 0u);
  ASSERT_EQ(f.metadata().size(), w.metadata().size());
  for (size_t i = 0; i < w.metadata().size(); ++i) {
    EXPECT_EQ(f.metadata()[i].first, w.metadata()[i].first);
    expect_same_value(w.metadata()[i].second, f.metadata()[i].second, w.metadata()[i].first);
  }
  ASSERT_EQ(f.tensors().size(), tensor_specs().size() + 1);
  seed = 1;
  for (size_t i = 0; i < tensor_specs().size(); ++i) {
    const auto& s = tensor_specs()[i];
    const GgufTensorInfo& t = f.tensors()[i];
    SCOPED_TRACE(s.name);
    EXPECT_EQ(t.name, s.name);
    EXPECT_EQ(t.shape, s.shape);
    EXPECT_EQ(t.type, s.type);
    EXPECT_EQ(t.offset % alignment, 0u);
    const auto expected = pattern(t.num_bytes, seed++);
    EXPECT_EQ(std::vector<uint8_t>(t.data, t.data + t.num_bytes), expected);
  }
  const GgufTensorInfo* h = f.find_tensor("h.fill");
  ASSERT_NE(h, nullptr);
  for (size_t i = 0; i < h->num_bytes; ++i) EXPECT_EQ(h->data[i], i);
}

TEST(GgufWriter, RoundTripsEveryValueTypeV3) {
  check_round_trip(3, 32);
}
TEST(GgufWriter, RoundTripsEveryValueTypeV2) {
  check_round_trip(2, 32);
}
TEST(GgufWriter, HonoursCustomAlignment) {
  check_round_trip(3, 64);
  check_round_trip(2, 1);
  check_round_trip(3, 4096);
}

TEST(GgufWriter, SetReplacesInPlace) {
  GgufWriter w;
  w.set_string("a", "1");
  w.set_string("b", "2");
  w.set_u32("a", 3);
  ASSERT_EQ(w.metadata().size(), 2u);
  EXPECT_EQ(w.metadata()[0].first, "a");
  EXPECT_EQ(w.metadata()[0].second.as_uint(), 3u);
  EXPECT_TRUE(w.has("b"));
  EXPECT_FALSE(w.has("c"));
}

TEST(GgufWriter, RewritesStories260KIdentically) {
  // Copying every key and tensor of a real file must reproduce it byte for byte: the layout
  // rules (padding, offsets, alignment) are the same as llama.cpp's.
  GgufFile src = GgufFile::open(test::stories_model());
  GgufWriter w(src.version());
  for (const auto& [k, v] : src.metadata()) w.set(k, v);
  for (const auto& t : src.tensors())
    w.add_tensor(t.name, t.shape, t.type, std::span<const uint8_t>(t.data, t.num_bytes));
  const std::string path = test::scratch_dir() + "/stories_copy.gguf";
  w.write(path);
  EXPECT_TRUE(test::read_file(path) == test::read_file(test::stories_model()));
}

void expect_error(const std::function<void()>& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "expected an error mentioning '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(GgufWriter, RejectsInvalidTensors) {
  GgufWriter w;
  const std::vector<uint8_t> four(4);
  expect_error([&] { w.add_tensor("x", {}, DType::F32, four); }, "dimensions");
  expect_error([&] { w.add_tensor("x", {1, 1, 1, 1, 1}, DType::F32, four); }, "dimensions");
  expect_error([&] { w.add_tensor("x", {0}, DType::F32, four); }, "dimension");
  expect_error([&] { w.add_tensor("x", {-1}, DType::F32, four); }, "dimension");
  expect_error([&] { w.add_tensor("x", {2}, DType::F32, four); }, "bytes");
  expect_error([&] { w.add_tensor("x", {33}, DType::Q8_0, four); }, "multiple of 32");
  expect_error([&] { w.add_tensor("x", {1}, static_cast<DType>(99), four); }, "unknown type");
  expect_error([&] { w.add_tensor("", {1}, DType::F32, four); }, "empty");
  w.add_tensor("x", {1}, DType::F32, four);
  expect_error([&] { w.add_tensor("x", {1}, DType::F32, four); }, "duplicate");
}

TEST(GgufWriter, RejectsInvalidMetadata) {
  GgufWriter w;
  expect_error([&] { w.set_string("", "x"); }, "empty");
  expect_error([&] { w.set("k", arr(GgufType::INT32, {GgufValue::from_string("not an int")})); },
               "'k'");
  expect_error([&] { w.set_alignment(48); }, "power of two");
  expect_error([] { GgufWriter bad(1); }, "version");
  w.set_string("general.alignment", "32");
  expect_error([&] { w.write(test::scratch_dir() + "/never.gguf"); }, "alignment");
}

TEST(GgufWriter, IoFailureNamesThePathAndLeavesNothing) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  expect_error([&] { w.write("/nonexistent-dir/model.gguf"); }, "/nonexistent-dir/model.gguf");

  // A failing fill callback must not leave a partial file or temporary behind.
  const std::string dir = test::scratch_dir() + "/writer_fail";
  fs::remove_all(dir);
  fs::create_directories(dir);
  w.add_tensor("t", {8}, DType::F32, [](uint8_t*, size_t) { fail("generator broke"); });
  expect_error([&] { w.write(dir + "/model.gguf"); }, "generator broke");
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(GgufWriter, ReportsProgressPerTensor) {
  GgufWriter w;
  w.add_tensor("a", {1}, DType::F32, std::vector<uint8_t>(4));
  w.add_tensor("b", {1}, DType::F32, std::vector<uint8_t>(4));
  std::vector<std::string> seen;
  w.write(test::scratch_dir() + "/progress.gguf", [&](size_t i, size_t n, const std::string& name) {
    EXPECT_EQ(n, 2u);
    EXPECT_EQ(i, seen.size());
    seen.push_back(name);
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
}

TEST(GgufWriter, NoTensorsStillReadable) {
  GgufWriter w;
  w.set_string("general.architecture", "none");
  const std::string path = test::scratch_dir() + "/empty.gguf";
  w.write(path);
  GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.tensors().size(), 0u);
  EXPECT_EQ(f.get_string("general.architecture"), "none");
}

}  // namespace
}  // namespace pareto
