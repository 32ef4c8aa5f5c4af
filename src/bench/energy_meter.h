// Energy measured over an interval (`pareto bench serve` reports joules per output token with it).
//
// Sources, tried in this order by EnergyMeter::detect():
//   rapl : Intel/AMD RAPL counters under /sys/class/powercap: every zone named "package-N" and
//          every "dram" subzone (reported as "dram-N", N = its package). "core", "uncore" and
//          "psys" are skipped: core and uncore are inside package, psys overlaps everything.
//          Counters are microjoules that wrap at max_energy_range_uj; a background thread samples
//          them every ~1 s (and stop() once more), so any number of wraps in a long run is
//          handled as long as no counter wraps twice within one sample period (at 1 s that
//          would take > 200 kW on a typical 2^32 uJ range).
//   nvml : NVIDIA GPUs through libnvidia-ml.so.1 loaded at run time (dlopen), so the binary has no
//          link-time dependency on the driver; nvmlDeviceGetTotalEnergyConsumption (mJ since the
//          driver loaded, Volta and newer), one domain "gpu-N" per device.
// With neither, stop() returns available == false and a reason; no number is ever invented.
// Since Linux 5.10 energy_uj is readable only by root (CVE-2020-8694), so "permission denied"
// is the usual reason on a normal user account.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace pareto::bench {

struct EnergyDomain {
  std::string name;  // "package-0", "dram-0", "gpu-0"
  double joules = 0;
};

struct EnergyReading {
  bool available = false;
  std::string source;              // "rapl" or "nvml" when available
  std::string unavailable_reason;  // when !available, e.g. "no readable RAPL counters under
                                   // /sys/class/powercap and no NVML"
  double joules = 0;               // sum over domains
  std::vector<EnergyDomain> domains;
};

class EnergyMeter {
 public:
  // RAPL (package and DRAM domains of /sys/class/powercap, counter wrap-around handled),
  // else NVML loaded with dlopen("libnvidia-ml.so.1"), else a meter whose stop() says
  // unavailable.
  static std::unique_ptr<EnergyMeter> detect(
      const std::string& powercap_root = "/sys/class/powercap");
  virtual ~EnergyMeter() = default;
  virtual void start() = 0;          // begins an interval
  virtual EnergyReading stop() = 0;  // energy used since start()
  // Reads the counters now and folds the change into the running interval. The RAPL meter's
  // background thread calls it every ~1 s; public so tests can step a fake counter through
  // several wrap-arounds. A no-op outside an interval and for meters without wrapping counters.
  virtual void sample() {}
};

// The RAPL meter alone (no NVML fallback): nullptr and *reason set when no package or dram zone
// under powercap_root is readable. sample_period_ms is the background sampling period.
std::unique_ptr<EnergyMeter> make_rapl_meter(const std::string& powercap_root, std::string* reason,
                                             int sample_period_ms = 1000);

}  // namespace pareto::bench
