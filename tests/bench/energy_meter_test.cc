#include "bench/energy_meter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace pareto::bench {
namespace {

namespace fs = std::filesystem;

// A fake /sys/class/powercap tree in a fresh temporary directory, removed at the end.
class FakePowercap {
 public:
  FakePowercap() {
    root_ = fs::temp_directory_path() /
            ("pareto_powercap_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  ~FakePowercap() { fs::remove_all(root_); }

  // Creates ROOT/<rel>/ with name, energy_uj and max_energy_range_uj.
  void add_zone(const std::string& rel, const std::string& name, uint64_t energy_uj,
                uint64_t max_range_uj) {
    fs::create_directories(root_ / rel);
    write(rel + "/name", name + "\n");
    set_energy(rel, energy_uj);
    write(rel + "/max_energy_range_uj", std::to_string(max_range_uj) + "\n");
  }
  // Written to a temporary file and renamed, so the meter's sampling thread never sees a
  // half-written counter.
  void set_energy(const std::string& rel, uint64_t energy_uj) {
    write(rel + "/energy_uj", std::to_string(energy_uj) + "\n");
  }
  std::string root() const { return root_.string(); }
  fs::path path(const std::string& rel) const { return root_ / rel; }

 private:
  void write(const std::string& rel, const std::string& text) {
    const fs::path tmp = root_ / (rel + ".tmp");
    {
      std::ofstream out(tmp);
      out << text;
    }
    fs::rename(tmp, root_ / rel);
  }
  static inline int counter_ = 0;
  fs::path root_;
};

double domain_joules(const EnergyReading& r, const std::string& name) {
  for (const EnergyDomain& d : r.domains)
    if (d.name == name) return d.joules;
  ADD_FAILURE() << "no domain " << name;
  return -1;
}

TEST(EnergyMeter, RaplPackageAndDramDeltas) {
  FakePowercap pc;
  pc.add_zone("intel-rapl:0", "package-0", 1'000'000, 262'143'328'850);
  pc.add_zone("intel-rapl:0/intel-rapl:0:0", "core", 5'000, 262'143'328'850);  // skipped
  pc.add_zone("intel-rapl:0/intel-rapl:0:1", "dram", 2'000'000, 65'712'999'613);
  pc.add_zone("intel-rapl:1", "psys", 7, 1000);  // skipped
  auto meter = EnergyMeter::detect(pc.root());
  meter->start();
  pc.set_energy("intel-rapl:0", 13'500'000);                // +12.5 J
  pc.set_energy("intel-rapl:0/intel-rapl:0:0", 99'000);     // ignored
  pc.set_energy("intel-rapl:0/intel-rapl:0:1", 2'250'000);  // +0.25 J
  const EnergyReading r = meter->stop();
  ASSERT_TRUE(r.available) << r.unavailable_reason;
  EXPECT_EQ(r.source, "rapl");
  ASSERT_EQ(r.domains.size(), 2u);
  EXPECT_EQ(r.domains[0].name, "dram-0");
  EXPECT_EQ(r.domains[1].name, "package-0");
  EXPECT_DOUBLE_EQ(domain_joules(r, "package-0"), 12.5);
  EXPECT_DOUBLE_EQ(domain_joules(r, "dram-0"), 0.25);
  EXPECT_DOUBLE_EQ(r.joules, 12.75);
}

TEST(EnergyMeter, SubzonesListedAtTheRootAreCountedOnce) {
  // Real sysfs lists intel-rapl:0:0 both inside intel-rapl:0 and at the top level (a link).
  FakePowercap pc;
  pc.add_zone("intel-rapl:0", "package-0", 0, 1'000'000);
  pc.add_zone("intel-rapl:0/intel-rapl:0:0", "dram", 0, 1'000'000);
  fs::create_directory_symlink(pc.path("intel-rapl:0/intel-rapl:0:0"), pc.path("intel-rapl:0:0"));
  pc.add_zone("intel-rapl:1", "package-1", 0, 1'000'000);
  auto meter = EnergyMeter::detect(pc.root());
  meter->start();
  pc.set_energy("intel-rapl:0/intel-rapl:0:0", 3'000);
  pc.set_energy("intel-rapl:1", 1'000);
  const EnergyReading r = meter->stop();
  ASSERT_TRUE(r.available) << r.unavailable_reason;
  ASSERT_EQ(r.domains.size(), 3u);
  EXPECT_DOUBLE_EQ(domain_joules(r, "dram-0"), 0.003);
  EXPECT_DOUBLE_EQ(domain_joules(r, "package-0"), 0.0);
  EXPECT_DOUBLE_EQ(domain_joules(r, "package-1"), 0.001);
  EXPECT_DOUBLE_EQ(r.joules, 0.004);
}

TEST(EnergyMeter, CounterWrapAtStop) {
  FakePowercap pc;
  pc.add_zone("intel-rapl:0", "package-0", 900'000, 1'000'000);
  auto meter = EnergyMeter::detect(pc.root());
  meter->start();
  pc.set_energy("intel-rapl:0", 100'000);  // wrapped: 100'000 to the top + 100'000
  const EnergyReading r = meter->stop();
  ASSERT_TRUE(r.available);
  EXPECT_DOUBLE_EQ(r.joules, 0.2);
}

TEST(EnergyMeter, SeveralWrapsAcrossSamples) {
  FakePowercap pc;
  pc.add_zone("intel-rapl:0", "package-0", 900'000, 1'000'000);
  std::string reason;
  // A long period: only the explicit sample() calls fold in changes.
  auto meter = make_rapl_meter(pc.root(), &reason, 3'600'000);
  ASSERT_NE(meter, nullptr) << reason;
  meter->start();
  pc.set_energy("intel-rapl:0", 500'000);  // wrap 1: +600'000
  meter->sample();
  pc.set_energy("intel-rapl:0", 400'000);  // wrap 2: +900'000
  meter->sample();
  pc.set_energy("intel-rapl:0", 450'000);  // +50'000
  meter->sample();
  pc.set_energy("intel-rapl:0", 10'000);  // wrap 3 at stop: +560'000
  const EnergyReading r = meter->stop();
  ASSERT_TRUE(r.available);
  EXPECT_DOUBLE_EQ(r.joules, 2.11);
  // A second interval starts from the counter's current value.
  meter->start();
  pc.set_energy("intel-rapl:0", 20'000);
  EXPECT_DOUBLE_EQ(meter->stop().joules, 0.01);
}

TEST(EnergyMeter, EmptyRootIsUnavailableWithAReason) {
  FakePowercap pc;
  auto meter = EnergyMeter::detect(pc.root());
  meter->start();
  const EnergyReading r = meter->stop();
  if (r.available) {
    // Only on a machine with a working NVML: then the fallback is the point of detect().
    EXPECT_EQ(r.source, "nvml");
    return;
  }
  EXPECT_EQ(r.joules, 0.0);
  EXPECT_TRUE(r.domains.empty());
  EXPECT_NE(r.unavailable_reason.find("no RAPL package or dram zone under " + pc.root()),
            std::string::npos)
      << r.unavailable_reason;
  EXPECT_NE(r.unavailable_reason.find("NVML"), std::string::npos) << r.unavailable_reason;
}

TEST(EnergyMeter, MissingRootAndOnlyIgnoredZonesGiveNoRaplMeter) {
  std::string reason;
  EXPECT_EQ(make_rapl_meter("/nonexistent/powercap", &reason), nullptr);
  EXPECT_EQ(reason, "no RAPL package or dram zone under /nonexistent/powercap");
  FakePowercap pc;
  pc.add_zone("intel-rapl:0", "psys", 0, 1000);
  EXPECT_EQ(make_rapl_meter(pc.root(), &reason), nullptr);
}

TEST(EnergyMeter, UnreadableCounterIsUnavailableNotZero) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  FakePowercap pc;
  pc.add_zone("intel-rapl:0", "package-0", 0, 1000);
  fs::permissions(pc.path("intel-rapl:0/energy_uj"), fs::perms::none);
  std::string reason;
  EXPECT_EQ(make_rapl_meter(pc.root(), &reason), nullptr);
  EXPECT_NE(reason.find("no readable RAPL counters"), std::string::npos) << reason;
  EXPECT_NE(reason.find("Permission denied"), std::string::npos) << reason;
}

TEST(EnergyMeter, CounterThatCannotBeReadIsSkippedWithTheReason) {
  // Runs as root too (where the permission test above is skipped): a directory cannot be read.
  FakePowercap pc;
  pc.add_zone("intel-rapl:0", "package-0", 0, 1000);
  fs::remove(pc.path("intel-rapl:0/energy_uj"));
  fs::create_directory(pc.path("intel-rapl:0/energy_uj"));
  std::string reason;
  EXPECT_EQ(make_rapl_meter(pc.root(), &reason), nullptr);
  EXPECT_EQ(reason, "no readable RAPL counters under " + pc.root() + " (" +
                        pc.path("intel-rapl:0/energy_uj").string() + ": Is a directory)");
  const EnergyReading r = [&] {
    auto meter = EnergyMeter::detect(pc.root());
    meter->start();
    return meter->stop();
  }();
  if (!r.available) {
    EXPECT_EQ(r.unavailable_reason.rfind("RAPL: " + reason + "; NVML: ", 0), 0u)
        << r.unavailable_reason;
  }
}

TEST(EnergyMeter, CounterVanishingMidIntervalMakesTheReadingUnavailable) {
  FakePowercap pc;
  pc.add_zone("intel-rapl:0", "package-0", 0, 1000);
  auto meter = EnergyMeter::detect(pc.root());
  meter->start();
  fs::remove(pc.path("intel-rapl:0/energy_uj"));
  const EnergyReading r = meter->stop();
  EXPECT_FALSE(r.available);
  EXPECT_NE(r.unavailable_reason.find("energy_uj"), std::string::npos) << r.unavailable_reason;
}

}  // namespace
}  // namespace pareto::bench
