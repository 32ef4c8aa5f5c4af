#include "bench/hardware_spec.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/error.h"
#include "support/test_paths.h"

namespace pareto::bench {
namespace {

nlohmann::json valid() {
  return nlohmann::json::parse(R"({
    "name": "toy", "source": "made up",
    "memory_gib": 2, "reserve_fraction": 0.25, "memory_bandwidth_gb_s": 100,
    "peak_tflops": {"f32": 1, "f16": 2, "int8": 4},
    "quantized_compute": "int8", "host_link_gb_s": 10,
    "achieved": {"bandwidth_fraction": 0.3, "flops_fraction": 0.75}})");
}

std::string error_of(const nlohmann::json& j) {
  try {
    hardware_spec_from_json(j, "hw.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(HardwareSpec, ParsesEveryField) {
  const HardwareSpec s = hardware_spec_from_json(valid(), "hw.json");
  EXPECT_EQ(s.name, "toy");
  EXPECT_EQ(s.source, "made up");
  EXPECT_DOUBLE_EQ(s.memory_bytes, 2.0 * 1024 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(s.reserve_fraction, 0.25);
  EXPECT_DOUBLE_EQ(s.memory_bandwidth_gb_s, 100);
  EXPECT_DOUBLE_EQ(s.peak_tflops.f32, 1);
  EXPECT_DOUBLE_EQ(s.peak_tflops.f16, 2);
  EXPECT_DOUBLE_EQ(s.peak_tflops.bf16, 0);  // absent: not supported
  EXPECT_DOUBLE_EQ(s.peak_tflops.int8, 4);
  EXPECT_EQ(s.quantized_compute, "int8");
  EXPECT_DOUBLE_EQ(s.host_link_gb_s, 10);
  EXPECT_DOUBLE_EQ(s.bandwidth_fraction, 0.3);
  EXPECT_DOUBLE_EQ(s.flops_fraction, 0.75);
  EXPECT_DOUBLE_EQ(s.peak_for("int8"), 4);
  EXPECT_THROW(s.peak_for("bf16"), Error);
  EXPECT_THROW(s.peak_for("fp8"), Error);
  // to_json round-trips.
  const HardwareSpec t = hardware_spec_from_json(to_json(s), "round trip");
  EXPECT_DOUBLE_EQ(t.memory_bytes, s.memory_bytes);
  EXPECT_DOUBLE_EQ(t.flops_fraction, s.flops_fraction);
  EXPECT_EQ(t.source, s.source);
}

TEST(HardwareSpec, ErrorsNameTheField) {
  nlohmann::json j = valid();
  j.erase("memory_bandwidth_gb_s");
  EXPECT_EQ(error_of(j), "hw.json: missing field \"memory_bandwidth_gb_s\"");
  j = valid();
  j["host_link_gb_s"] = "fast";
  EXPECT_EQ(error_of(j), "hw.json: field \"host_link_gb_s\" must be a number, got \"fast\"");
  j = valid();
  j["achieved"]["flops_fraction"] = 1.5;
  EXPECT_EQ(error_of(j),
            "hw.json: achieved: field \"flops_fraction\" = 1.5 is out of range [0.0001, 1]");
  j = valid();
  j["achieved"].erase("bandwidth_fraction");
  EXPECT_EQ(error_of(j), "hw.json: achieved: missing field \"bandwidth_fraction\"");
  j = valid();
  j.erase("name");
  EXPECT_EQ(error_of(j), "hw.json: missing field \"name\" (a non-empty string)");
  j = valid();
  j["peak_tflops"] = {{"f32", 0}};
  EXPECT_EQ(error_of(j), "hw.json: field \"peak_tflops\" gives no positive peak");
  j = valid();
  j["quantized_compute"] = "fp4";
  EXPECT_EQ(
      error_of(j),
      "hw.json: field \"quantized_compute\" must be one of f32, f16, bf16, int8, got \"fp4\"");
  j = valid();
  j["quantized_compute"] = "bf16";  // valid name, but no bf16 peak given
  EXPECT_EQ(error_of(j), "hardware toy: no peak_tflops.bf16 given");
  EXPECT_EQ(error_of(nlohmann::json::array()), "hw.json: expected a JSON object");
}

TEST(HardwareSpec, LoadReportsUnreadableAndInvalidFiles) {
  EXPECT_THROW(load_hardware_spec("/nonexistent/hw.json"), Error);
  const std::string path =
      (std::filesystem::temp_directory_path() / "pareto_hw_spec_test.json").string();
  {
    std::ofstream out(path);
    out << "{\"name\": ";
  }
  try {
    load_hardware_spec(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("hardware file " + path + ": not valid JSON"),
              std::string::npos)
        << e.what();
  }
  std::filesystem::remove(path);
}

TEST(HardwareSpec, ShippedFilesLoad) {
  const std::string dir = test::source_dir() + "/hardware/";
  const HardwareSpec a100 = load_hardware_spec(dir + "a100-80gb.json");
  EXPECT_DOUBLE_EQ(a100.memory_bandwidth_gb_s, 2039);
  EXPECT_DOUBLE_EQ(a100.peak_tflops.f16, 312);
  EXPECT_DOUBLE_EQ(a100.peak_tflops.int8, 624);
  EXPECT_DOUBLE_EQ(a100.host_link_gb_s, 25);
  const HardwareSpec h100 = load_hardware_spec(dir + "h100-80gb.json");
  EXPECT_DOUBLE_EQ(h100.memory_bandwidth_gb_s, 3350);
  EXPECT_DOUBLE_EQ(h100.peak_tflops.f16, 989);
  EXPECT_DOUBLE_EQ(h100.peak_tflops.int8, 1979);
  EXPECT_DOUBLE_EQ(h100.host_link_gb_s, 50);
  const HardwareSpec here = load_hardware_spec(dir + "this-machine.json");
  EXPECT_GT(here.memory_bandwidth_gb_s, 0);
  EXPECT_GT(here.peak_tflops.int8, 0);
  EXPECT_FALSE(here.source.empty());
}

TEST(HardwareSpec, DescribeThisMachineMeasuresPositiveRates) {
  DescribeOptions o;
  o.bandwidth_seconds_budget = 0.1;
  o.flops_seconds_budget = 0.1;
  const HardwareSpec s = describe_this_machine(o);
  EXPECT_GT(s.memory_bytes, 0);
  EXPECT_GT(s.memory_bandwidth_gb_s, 0);
  EXPECT_GT(s.host_link_gb_s, 0);
  EXPECT_GT(s.peak_tflops.f32, 0);
  EXPECT_GT(s.peak_tflops.int8, 0);
  EXPECT_EQ(s.quantized_compute, "int8");
  EXPECT_DOUBLE_EQ(s.reserve_fraction, 0.6);
  // Whatever was measured must pass the file validation.
  EXPECT_NO_THROW(hardware_spec_from_json(to_json(s), "described"));
}

}  // namespace
}  // namespace pareto::bench
