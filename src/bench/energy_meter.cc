#include "bench/energy_meter.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

namespace pareto::bench {
namespace {

namespace fs = std::filesystem;

// Reads a sysfs file holding one unsigned decimal number. On failure returns nullopt and sets
// *error to "PATH: why" (errno text for open/read failures: EACCES is the common one).
std::optional<uint64_t> read_counter(const std::string& path, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = fmt::format("{}: {}", path, std::strerror(errno));
    return std::nullopt;
  }
  char buf[64];
  const ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  const int read_errno = errno;
  ::close(fd);
  if (n < 0) {
    *error = fmt::format("{}: {}", path, std::strerror(read_errno));
    return std::nullopt;
  }
  buf[n] = '\0';
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(buf, &end, 10);
  if (end == buf || errno != 0 || (*end != '\0' && *end != '\n')) {
    *error = fmt::format("{}: not a counter value", path);
    return std::nullopt;
  }
  return static_cast<uint64_t>(v);
}

std::string read_name(const fs::path& zone) {
  std::ifstream in(zone / "name");
  std::string name;
  std::getline(in, name);
  return name;
}

// ---------------------------------------------------------------------------------------------
// RAPL

struct RaplZone {
  std::string domain;       // "package-0", "dram-0"
  std::string energy_path;  // .../energy_uj
  uint64_t max_range_uj = 0;
  uint64_t last_uj = 0;   // counter at the previous sample
  uint64_t total_uj = 0;  // accumulated since start()
};

class RaplMeter final : public EnergyMeter {
 public:
  RaplMeter(std::vector<RaplZone> zones, int sample_period_ms)
      : zones_(std::move(zones)), period_(sample_period_ms) {}
  ~RaplMeter() override { stop_thread(); }

  void start() override {
    stop_thread();
    {
      std::lock_guard lock(mu_);
      error_.clear();
      for (RaplZone& z : zones_) {
        std::string err;
        const std::optional<uint64_t> v = read_counter(z.energy_path, &err);
        if (!v && error_.empty()) error_ = err;
        z.last_uj = v.value_or(0);
        z.total_uj = 0;
      }
      running_ = true;
      quit_ = false;
    }
    sampler_ = std::thread([this] { sample_loop(); });
  }

  EnergyReading stop() override {
    stop_thread();
    sample_locked_final();
    std::lock_guard lock(mu_);
    running_ = false;
    EnergyReading r;
    if (!error_.empty()) {
      r.unavailable_reason = "RAPL counter unreadable: " + error_;
      return r;
    }
    r.available = true;
    r.source = "rapl";
    for (const RaplZone& z : zones_) {
      const double j = static_cast<double>(z.total_uj) * 1e-6;
      r.domains.push_back({z.domain, j});
      r.joules += j;
    }
    return r;
  }

  void sample() override {
    std::lock_guard lock(mu_);
    if (running_) sample_zones(/*final=*/false);
  }

 private:
  // Folds every zone's change since the last sample into its total. A counter below its last
  // value has wrapped once (the sample period keeps it to once): add the range. A failed read
  // mid-run is skipped (the next sample covers the gap); a failed read at start or stop makes
  // the reading unavailable.
  void sample_zones(bool final) {
    for (RaplZone& z : zones_) {
      std::string err;
      const std::optional<uint64_t> v = read_counter(z.energy_path, &err);
      if (!v) {
        if (final && error_.empty()) error_ = err;
        continue;
      }
      uint64_t delta = *v - z.last_uj;
      if (*v < z.last_uj) delta = (z.max_range_uj - z.last_uj) + *v;
      z.total_uj += delta;
      z.last_uj = *v;
    }
  }

  void sample_locked_final() {
    std::lock_guard lock(mu_);
    if (running_) sample_zones(/*final=*/true);
  }

  void sample_loop() {
    std::unique_lock lock(mu_);
    while (!quit_) {
      if (cv_.wait_for(lock, period_, [this] { return quit_; })) break;
      sample_zones(/*final=*/false);
    }
  }

  void stop_thread() {
    {
      std::lock_guard lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    if (sampler_.joinable()) sampler_.join();
  }

  std::vector<RaplZone> zones_;
  std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread sampler_;
  bool running_ = false;
  bool quit_ = false;
  std::string error_;  // first failed read of this interval
};

// Zone directories: the intel-rapl:* entries of the root and of each zone (subzones such as
// intel-rapl:0:0 appear in both places on real systems; keyed by directory name, so once).
std::map<std::string, fs::path> rapl_zone_dirs(const fs::path& root) {
  std::map<std::string, fs::path> dirs;
  std::error_code ec;
  auto scan = [&](const fs::path& dir, auto& self, int depth) -> void {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string n = it->path().filename().string();
      if (n.rfind("intel-rapl:", 0) != 0) continue;
      std::error_code ec2;
      if (!fs::is_directory(it->path(), ec2)) continue;
      dirs.emplace(n, it->path());
      if (depth < 2) self(it->path(), self, depth + 1);
    }
  };
  scan(root, scan, 0);
  return dirs;
}

}  // namespace

std::unique_ptr<EnergyMeter> make_rapl_meter(const std::string& powercap_root, std::string* reason,
                                             int sample_period_ms) {
  std::vector<RaplZone> zones;
  std::string first_error;
  for (const auto& [dir_name, dir] : rapl_zone_dirs(powercap_root)) {
    const std::string name = read_name(dir);
    std::string domain;
    if (name.rfind("package-", 0) == 0) {
      domain = name;
    } else if (name == "dram") {
      // intel-rapl:N:M -> package N.
      const std::string rest = dir_name.substr(std::strlen("intel-rapl:"));
      domain = "dram-" + rest.substr(0, rest.find(':'));
    } else {
      continue;  // core/uncore are inside package; psys overlaps everything
    }
    std::string err;
    const std::optional<uint64_t> range =
        read_counter((dir / "max_energy_range_uj").string(), &err);
    const std::optional<uint64_t> now =
        range ? read_counter((dir / "energy_uj").string(), &err) : std::nullopt;
    if (!range || !now || *range == 0) {
      if (first_error.empty()) first_error = range && now ? dir.string() + ": zero range" : err;
      continue;
    }
    zones.push_back({domain, (dir / "energy_uj").string(), *range, *now, 0});
  }
  if (zones.empty()) {
    *reason =
        first_error.empty()
            ? fmt::format("no RAPL package or dram zone under {}", powercap_root)
            : fmt::format("no readable RAPL counters under {} ({})", powercap_root, first_error);
    return nullptr;
  }
  std::sort(zones.begin(), zones.end(),
            [](const RaplZone& a, const RaplZone& b) { return a.domain < b.domain; });
  return std::make_unique<RaplMeter>(std::move(zones), std::max(1, sample_period_ms));
}

namespace {

// ---------------------------------------------------------------------------------------------
// NVML, declared here (no NVIDIA headers): return codes are ints (0 = NVML_SUCCESS), a device is
// an opaque pointer. Energy is a 64-bit millijoule counter since the driver loaded: no wrap.

using NvmlReturn = int;
struct NvmlDeviceSt;
using NvmlDevice = NvmlDeviceSt*;

struct NvmlApi {
  void* lib = nullptr;
  NvmlReturn (*init)() = nullptr;
  NvmlReturn (*shutdown)() = nullptr;
  NvmlReturn (*get_count)(unsigned int*) = nullptr;
  NvmlReturn (*get_handle)(unsigned int, NvmlDevice*) = nullptr;
  NvmlReturn (*get_energy)(NvmlDevice, unsigned long long*) = nullptr;
  const char* (*error_string)(NvmlReturn) = nullptr;  // optional

  std::string describe(NvmlReturn rc) const {
    if (error_string != nullptr) return fmt::format("{} ({})", error_string(rc), rc);
    return fmt::format("NVML error {}", rc);
  }
};

class NvmlMeter final : public EnergyMeter {
 public:
  NvmlMeter(NvmlApi api, std::vector<NvmlDevice> devices)
      : api_(api), devices_(std::move(devices)), start_mj_(devices_.size(), 0) {}
  ~NvmlMeter() override {
    api_.shutdown();
    dlclose(api_.lib);
  }

  void start() override {
    error_.clear();
    for (size_t i = 0; i < devices_.size(); ++i) {
      const NvmlReturn rc = api_.get_energy(devices_[i], &start_mj_[i]);
      if (rc != 0 && error_.empty()) error_ = fmt::format("gpu-{}: {}", i, api_.describe(rc));
    }
  }

  EnergyReading stop() override {
    EnergyReading r;
    std::vector<EnergyDomain> domains;
    double total = 0;
    for (size_t i = 0; i < devices_.size() && error_.empty(); ++i) {
      unsigned long long mj = 0;
      const NvmlReturn rc = api_.get_energy(devices_[i], &mj);
      if (rc != 0) {
        error_ = fmt::format("gpu-{}: {}", i, api_.describe(rc));
        break;
      }
      const double j = static_cast<double>(mj - start_mj_[i]) * 1e-3;
      domains.push_back({fmt::format("gpu-{}", i), j});
      total += j;
    }
    if (!error_.empty()) {
      r.unavailable_reason = "NVML energy counter unreadable: " + error_;
      return r;
    }
    r.available = true;
    r.source = "nvml";
    r.joules = total;
    r.domains = std::move(domains);
    return r;
  }

 private:
  NvmlApi api_;
  std::vector<NvmlDevice> devices_;
  std::vector<unsigned long long> start_mj_;
  std::string error_;
};

std::unique_ptr<EnergyMeter> make_nvml_meter(std::string* reason) {
  NvmlApi api;
  api.lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (api.lib == nullptr) {
    const char* e = dlerror();
    *reason = fmt::format("libnvidia-ml.so.1 not loadable: {}", e != nullptr ? e : "unknown");
    return nullptr;
  }
  auto sym = [&](const char* name) { return dlsym(api.lib, name); };
  api.init = reinterpret_cast<NvmlReturn (*)()>(sym("nvmlInit_v2"));
  api.shutdown = reinterpret_cast<NvmlReturn (*)()>(sym("nvmlShutdown"));
  api.get_count = reinterpret_cast<NvmlReturn (*)(unsigned int*)>(sym("nvmlDeviceGetCount_v2"));
  api.get_handle = reinterpret_cast<NvmlReturn (*)(unsigned int, NvmlDevice*)>(
      sym("nvmlDeviceGetHandleByIndex_v2"));
  api.get_energy = reinterpret_cast<NvmlReturn (*)(NvmlDevice, unsigned long long*)>(
      sym("nvmlDeviceGetTotalEnergyConsumption"));
  api.error_string = reinterpret_cast<const char* (*)(NvmlReturn)>(sym("nvmlErrorString"));
  if (!api.init || !api.shutdown || !api.get_count || !api.get_handle || !api.get_energy) {
    *reason = "libnvidia-ml.so.1 lacks a required symbol";
    dlclose(api.lib);
    return nullptr;
  }
  if (const NvmlReturn rc = api.init(); rc != 0) {
    *reason = "nvmlInit failed: " + api.describe(rc);
    dlclose(api.lib);
    return nullptr;
  }
  unsigned int count = 0;
  std::vector<NvmlDevice> devices;
  NvmlReturn rc = api.get_count(&count);
  for (unsigned int i = 0; rc == 0 && i < count; ++i) {
    NvmlDevice d = nullptr;
    rc = api.get_handle(i, &d);
    unsigned long long mj = 0;
    // Probe the counter now: pre-Volta GPUs answer NOT_SUPPORTED.
    if (rc == 0) rc = api.get_energy(d, &mj);
    if (rc == 0) devices.push_back(d);
  }
  if (rc != 0 || devices.empty()) {
    *reason = rc != 0 ? "NVML energy counter: " + api.describe(rc) : "NVML sees no GPU";
    api.shutdown();
    dlclose(api.lib);
    return nullptr;
  }
  return std::make_unique<NvmlMeter>(api, std::move(devices));
}

class UnavailableMeter final : public EnergyMeter {
 public:
  explicit UnavailableMeter(std::string reason) : reason_(std::move(reason)) {}
  void start() override {}
  EnergyReading stop() override {
    EnergyReading r;
    r.unavailable_reason = reason_;
    return r;
  }

 private:
  std::string reason_;
};

}  // namespace

std::unique_ptr<EnergyMeter> EnergyMeter::detect(const std::string& powercap_root) {
  std::string rapl_reason, nvml_reason;
  if (auto m = make_rapl_meter(powercap_root, &rapl_reason)) return m;
  if (auto m = make_nvml_meter(&nvml_reason)) return m;
  return std::make_unique<UnavailableMeter>(
      fmt::format("RAPL: {}; NVML: {}", rapl_reason, nvml_reason));
}

}  // namespace pareto::bench
