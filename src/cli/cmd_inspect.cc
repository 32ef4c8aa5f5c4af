// `pareto inspect FILE`: a human-readable dump of a GGUF file's header, metadata and tensor
// table, for checking what a model file really contains before loading it.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <string>

#include "cli/command.h"
#include "weights/gguf_file.h"

namespace pareto::cli {
namespace {

struct InspectOptions {
  std::string path;
  bool all = false;
};

std::string type_label(const GgufValue& v) {
  if (!v.is_array()) return std::string(gguf_type_name(v.type()));
  return fmt::format("arr[{}]", gguf_type_name(v.elem_type()));
}

std::string shape_label(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", n) : fmt::format("{:.2f} {}", v, units[u]);
}

int run_inspect(const InspectOptions& opts) {
  const GgufFile f = GgufFile::open(opts.path);
  const size_t max_elems = opts.all ? std::numeric_limits<size_t>::max() : 8;

  fmt::print("file:        {}\n", f.path());
  fmt::print("version:     {}\n", f.version());
  fmt::print("alignment:   {}\n", f.alignment());
  fmt::print("file size:   {} ({})\n", f.file_size(), human_bytes(f.file_size()));
  fmt::print("data offset: {}\n", f.data_offset());
  fmt::print("tensors:     {}\n", f.tensors().size());

  size_t key_width = 0;
  for (const auto& kv : f.metadata()) key_width = std::max(key_width, kv.first.size());
  fmt::print("\nmetadata ({} keys):\n", f.metadata().size());
  for (const auto& [key, value] : f.metadata())
    fmt::print("  {:<{}}  {:<9} {}\n", key, key_width, type_label(value),
               value.to_display_string(max_elems));

  size_t name_width = 4;
  for (const auto& t : f.tensors()) name_width = std::max(name_width, t.name.size());
  fmt::print("\ntensors ({}; offset is from the start of the file):\n", f.tensors().size());
  fmt::print("  {:<{}}  {:<5} {:<22} {:>12} {:>12}\n", "name", name_width, "type", "shape", "bytes",
             "offset");
  uint64_t total_params = 0, total_bytes = 0;
  for (const auto& t : f.tensors()) {
    fmt::print("  {:<{}}  {:<5} {:<22} {:>12} {:>12}\n", t.name, name_width, dtype_name(t.type),
               shape_label(t.shape), t.num_bytes, f.data_offset() + t.offset);
    total_params += static_cast<uint64_t>(t.num_elements());
    total_bytes += t.num_bytes;
  }
  fmt::print("\ntotal: {} parameters ({:.3f} M), {} bytes of tensor data ({})\n", total_params,
             static_cast<double>(total_params) / 1e6, total_bytes, human_bytes(total_bytes));
  return 0;
}

const RegisterCommand reg{"inspect", "Print a GGUF file's header, metadata and tensor table",
                          [](CLI::App& sub) {
                            auto opts = std::make_shared<InspectOptions>();
                            sub.add_option("file", opts->path, "GGUF file")->required();
                            sub.add_flag("--all", opts->all, "Print every element of long arrays");
                            return [opts] { return run_inspect(*opts); };
                          }};

}  // namespace
}  // namespace pareto::cli
