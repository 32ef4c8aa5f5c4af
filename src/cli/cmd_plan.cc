// `pareto plan`: the long-context serving cost model (bench/cost_model.h) for
// one model on one machine: KV bytes per token, the concurrency memory allows,
// prefill, decode and context-switch times, and the predicted throughput and
// latency of U users. `--validate` compares its predictions with a measured
// `pareto bench sweep` file.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.h"
#include "bench/cost_model.h"
#include "bench/hardware_spec.h"
#include "bench/model_bench.h"
#include "cli/command.h"
#include "model/model.h"

namespace pareto::cli {
namespace {

struct PlanOptions {
  std::string model_path;
  std::string hardware_path;
  int64_t context_len = 0;
  int64_t users = 1;
  int64_t output_len = 128;
  int64_t max_num_seqs = 0;
  int64_t replicas = 1;
  int64_t max_num_batched_tokens = 2048;
  std::string kv_cache_dtype = "f16";
  int64_t block_size = 16;
  std::string validate_path;
  bool json = false;
  bool print_hardware = false;
  bool calibrate = false;
};

constexpr double kValidateTarget = 0.30;

bench::HardwareSpec hardware(const PlanOptions& o) {
  if (!o.hardware_path.empty()) return bench::load_hardware_spec(o.hardware_path);
  fmt::print(stderr, "plan: no --hardware given; measuring this machine (~2 s)...\n");
  return bench::describe_this_machine();
}

std::string bytes_str(double b) {
  if (b >= 1024.0 * 1024 * 1024) return fmt::format("{:.2f} GiB", b / (1024.0 * 1024 * 1024));
  if (b >= 1024.0 * 1024) return fmt::format("{:.2f} MiB", b / (1024.0 * 1024));
  if (b >= 1024.0) return fmt::format("{:.2f} KiB", b / 1024.0);
  return fmt::format("{:.0f} B", b);
}

std::string time_str(double s) {
  if (s >= 1) return fmt::format("{:.3f} s", s);
  if (s >= 1e-3) return fmt::format("{:.3f} ms", s * 1e3);
  return fmt::format("{:.3f} us", s * 1e6);
}

nlohmann::json plan_json(const bench::ModelShape& m, const bench::HardwareSpec& hw,
                         const bench::PlanInputs& in, const bench::PlanResult& r) {
  nlohmann::json j = {
      {"model", m.name},
      {"hardware", bench::to_json(hw)},
      {"inputs",
       {{"context_len", in.context_len},
        {"output_len", in.output_len},
        {"users", in.users},
        {"max_num_seqs", in.max_num_seqs},
        {"replicas", in.replicas},
        {"prefill_token_budget", in.prefill_token_budget}}},
      {"weight_bytes", m.weight_bytes},
      {"weight_params", m.weight_params},
      {"compute_dtype", m.compute_dtype == "quantized" ? hw.quantized_compute : m.compute_dtype},
      {"exceeds_model_context", r.exceeds_model_context},
      {"kv_bytes_per_token", r.kv_bytes_per_token},
      {"kv_bytes_per_seq", r.kv_bytes_per_seq},
      {"kv_memory_bytes", r.kv_memory_bytes},
      {"max_seqs_memory", r.max_seqs_memory},
      {"concurrency", r.concurrency},
      {"waves", r.waves},
      {"prefill_flops", r.prefill_flops},
      {"prefill_s", r.prefill_s},
      {"prefill_compute_bound", r.prefill_compute_bound},
      {"decode_step_bytes", r.decode_step_bytes},
      {"decode_step_flops", r.decode_step_flops},
      {"decode_step_s", r.decode_step_s},
      {"decode_compute_bound", r.decode_compute_bound},
      {"swap_s", r.swap_s},
      {"recompute_s", r.recompute_s},
      {"total_s", r.total_s},
      {"output_tok_s", r.output_tok_s},
      {"ttft_s", r.ttft_s},
      {"tpot_s", r.tpot_s},
      {"e2e_s", r.e2e_s}};
  if (r.waves > 1) {
    j["sliced_round_s"] = r.sliced_round_s;
    j["sliced_tpot_s"] = r.sliced_tpot_s;
    j["sliced_output_tok_s"] = r.sliced_output_tok_s;
  }
  return j;
}

void print_plan(const bench::ModelShape& m, const bench::HardwareSpec& hw,
                const bench::PlanInputs& in, const bench::PlanResult& r) {
  const std::string dtype = m.compute_dtype == "quantized" ? hw.quantized_compute : m.compute_dtype;
  auto row = [](const std::string& k, const std::string& v) { fmt::print("  {:<28} {}\n", k, v); };
  fmt::print(
      "model     {}: {:.1f} M params, {} of weights, {} layers, compute "
      "as {}\n",
      m.name, m.weight_params / 1e6, bytes_str(m.weight_bytes), m.num_layers, dtype);
  fmt::print(
      "hardware  {}: {} memory, {:.1f} GB/s x {:.2f}, {:.2f} TFLOP/s {} "
      "x {:.2f}, host "
      "link {:.1f} GB/s\n",
      hw.name, bytes_str(hw.memory_bytes), hw.memory_bandwidth_gb_s, hw.bandwidth_fraction,
      hw.peak_for(dtype), dtype, hw.flops_fraction, hw.host_link_gb_s);
  fmt::print(
      "workload  {} users x (context {} + output {} tokens), "
      "max_num_seqs {}, replicas {}\n",
      in.users, in.context_len, in.output_len,
      in.max_num_seqs > 0 ? std::to_string(in.max_num_seqs) : "unlimited", in.replicas);
  if (r.exceeds_model_context)
    fmt::print(
        "warning   context + output = {} tokens exceeds the model's context length {}; the "
        "engine would reject these requests\n",
        in.context_len + in.output_len, m.context_length);
  fmt::print("memory\n");
  row("KV bytes per token", bytes_str(r.kv_bytes_per_token));
  row("KV bytes per sequence", bytes_str(r.kv_bytes_per_seq));
  row("KV cache memory", fmt::format("{} ((memory - weights) x {:.2f})",
                                     bytes_str(r.kv_memory_bytes), 1 - hw.reserve_fraction));
  row("max sequences in memory", std::to_string(r.max_seqs_memory));
  row("concurrency", fmt::format("{} ({} wave{})", r.concurrency, r.waves, r.waves > 1 ? "s" : ""));
  fmt::print("time\n");
  row("prefill (one context)",
      fmt::format("{} ({:.3g} GFLOP, {}-bound)", time_str(r.prefill_s), r.prefill_flops / 1e9,
                  r.prefill_compute_bound ? "compute" : "memory"));
  row("decode step",
      fmt::format("{} (batch {}, {} + {:.3g} GFLOP, {}-bound)", time_str(r.decode_step_s),
                  r.concurrency, bytes_str(r.decode_step_bytes), r.decode_step_flops / 1e9,
                  r.decode_compute_bound ? "compute" : "memory"));
  row("context switch (swap)", fmt::format("{} per sequence (out + in); recompute {}",
                                           time_str(r.swap_s), time_str(r.recompute_s)));
  fmt::print("prediction (first come, first served)\n");
  row("output throughput", fmt::format("{:.1f} tok/s", r.output_tok_s));
  row("TTFT (mean)", time_str(r.ttft_s));
  row("TPOT (mean)", time_str(r.tpot_s));
  row("E2E (mean)", time_str(r.e2e_s));
  row("total", time_str(r.total_s));
  if (r.waves > 1) {
    fmt::print("prediction (all users active, waves time-sliced with KV swaps)\n");
    row("output throughput", fmt::format("{:.1f} tok/s", r.sliced_output_tok_s));
    row("TPOT (mean)", time_str(r.sliced_tpot_s));
    row("round", time_str(r.sliced_round_s));
  }
}

nlohmann::json read_json_file(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) fail("{} {}: cannot open", what, path);
  std::stringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    fail("{} {}: not valid JSON ({})", what, path, e.what());
  }
}

double sweep_number(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number())
    fail("{}: missing number \"{}\"", where, key);
  return j[key].get<double>();
}

int run_validate(const PlanOptions& o, const bench::ModelShape& m, const bench::HardwareSpec& hw) {
  const nlohmann::json sweep = read_json_file(o.validate_path, "sweep file");
  const std::string where = "sweep file " + o.validate_path;
  if (!sweep.contains("dataset") || !sweep["dataset"].is_object())
    fail("{}: missing object \"dataset\"", where);
  if (!sweep.contains("points") || !sweep["points"].is_array() || sweep["points"].empty())
    fail("{}: missing or empty array \"points\"", where);
  const auto input_len = static_cast<int64_t>(sweep_number(sweep["dataset"], "input_len", where));
  const auto output_len = static_cast<int64_t>(sweep_number(sweep["dataset"], "output_len", where));

  const bool table = !o.json;
  if (table) {
    fmt::print("validate {} against {} on {}: input {} output {} tokens\n", m.name, o.validate_path,
               hw.name, input_len, output_len);
    fmt::print("{:>4} {:>4} {:>4} {:>5} | {:>27} | {:>27} | {:>27}\n", "seqs", "rep", "thr", "conc",
               "out tok/s: meas pred err", "TTFT ms: meas pred err", "TPOT ms: meas pred err");
  }
  double abs_err_sum = 0;
  int num_errs = 0;
  nlohmann::json points = nlohmann::json::array();
  for (size_t i = 0; i < sweep["points"].size(); ++i) {
    const nlohmann::json& p = sweep["points"][i];
    const std::string pw = fmt::format("{}: points[{}]", where, i);
    if (!p.contains("median") || !p["median"].is_object()) fail("{}: missing \"median\"", pw);
    const nlohmann::json& med = p["median"];
    bench::PlanInputs in;
    in.context_len = input_len;
    in.output_len = output_len;
    // The model predicts U closed-loop users; an open-loop point (a request rate, no
    // concurrency cap) has no U and is skipped. A sweep of an existing server (--base-url)
    // does not know its max-num-seqs: memory decides, as with --max-num-seqs 0.
    if (p.contains("concurrency") && p["concurrency"].is_null()) {
      if (table) fmt::print("points[{}]: skipped (open loop, no concurrency)\n", i);
      continue;
    }
    in.users = static_cast<int64_t>(sweep_number(p, "concurrency", pw));
    in.max_num_seqs = p.contains("max_num_seqs") && p["max_num_seqs"].is_null()
                          ? 0
                          : static_cast<int64_t>(sweep_number(p, "max_num_seqs", pw));
    in.replicas = p.contains("replicas") && !p["replicas"].is_null()
                      ? static_cast<int64_t>(sweep_number(p, "replicas", pw))
                      : 1;
    in.prefill_token_budget = o.max_num_batched_tokens;
    const bench::PlanResult r = bench::plan(m, hw, in);
    const double meas[3] = {sweep_number(med, "output_throughput", pw),
                            sweep_number(med, "mean_ttft_ms", pw),
                            sweep_number(med, "mean_tpot_ms", pw)};
    const double pred[3] = {r.output_tok_s, r.ttft_s * 1e3, r.tpot_s * 1e3};
    nlohmann::json pj = {
        {"max_num_seqs", in.max_num_seqs}, {"replicas", in.replicas}, {"concurrency", in.users}};
    const char* names[3] = {"output_throughput", "mean_ttft_ms", "mean_tpot_ms"};
    std::string cells[3];
    for (int k = 0; k < 3; ++k) {
      // A metric measured as 0 (e.g. TPOT with one output token) has no
      // relative error.
      const bool usable = meas[k] > 0;
      const double err = usable ? (pred[k] - meas[k]) / meas[k] : 0;
      if (usable) abs_err_sum += std::fabs(err), ++num_errs;
      cells[k] = fmt::format("{:>9.4g} {:>9.4g} {:>+6.0f}%", meas[k], pred[k], err * 100);
      pj[names[k]] = {{"measured", meas[k]},
                      {"predicted", pred[k]},
                      {"relative_error", usable ? nlohmann::json(err) : nlohmann::json()}};
    }
    points.push_back(pj);
    if (table)
      fmt::print("{:>4} {:>4} {:>4} {:>5} | {} | {} | {}\n", in.max_num_seqs, in.replicas,
                 p.contains("threads_per_replica") ? p["threads_per_replica"].dump() : "-",
                 in.users, cells[0], cells[1], cells[2]);
  }
  const double mare = num_errs > 0 ? abs_err_sum / num_errs : 0;
  const bool within = num_errs > 0 && mare <= kValidateTarget;
  const char* verdict = within ? "within target (<= 30%)" : "above target (> 30%)";
  if (table)
    fmt::print("mean absolute relative error {:.1f}% over {} values: {}\n", mare * 100, num_errs,
               verdict);
  else
    fmt::print("{}\n", nlohmann::json{{"points", points},
                                      {"mean_abs_relative_error", mare},
                                      {"within_target", within},
                                      {"verdict", verdict}}
                           .dump());
  return 0;
}

double kv_elem_bytes(const std::string& dtype) {
  if (dtype == "f16") return 2;
  if (dtype == "f32") return 4;
  fail("plan: --kv-cache-dtype must be f16 or f32, got '{}'", dtype);
}

// Replaces the achieved fractions with ones measured now on this model: a short `bench model`
// run (decode weight GB/s over the measured read bandwidth, prefill GFLOP/s over the measured
// peak), so peaks and fractions come from the same minutes of the same (possibly busy) machine.
void calibrate(bench::HardwareSpec& hw, Model& model, const bench::ModelShape& m) {
  const std::string dtype = m.compute_dtype == "quantized" ? hw.quantized_compute : m.compute_dtype;
  bench::ModelBenchOptions bo;
  bo.prompt_tokens = std::min<int64_t>(128, model.config().context_length / 2);
  bo.gen_tokens = std::min<int64_t>(32, model.config().context_length / 4);
  bo.reps = 1;
  bo.kv_dtype = m.kv_elem_bytes == 4 ? DType::F32 : DType::F16;  // as the plan's KV cache
  fmt::print(stderr, "plan: calibrating on the model (bench model -p {} -n {})...\n",
             bo.prompt_tokens, bo.gen_tokens);
  ThreadPool pool(0);
  const bench::ModelBenchResult r = bench::run_model_bench(model, bo, pool);
  hw.bandwidth_fraction = std::clamp(r.weight_gb_s / hw.memory_bandwidth_gb_s, 1e-4, 1.0);
  hw.flops_fraction = std::clamp(r.prefill_gflops / (hw.peak_for(dtype) * 1e3), 1e-4, 1.0);
  hw.source += fmt::format(
      "; achieved fractions calibrated now on {}: decode {:.2f} GB/s of weights, prefill {:.1f} "
      "GFLOP/s",
      m.name, r.weight_gb_s, r.prefill_gflops);
}

int run_plan(const PlanOptions& o) {
  if (o.print_hardware) {
    const bench::HardwareSpec hw = hardware(o);
    fmt::print("{}\n", bench::to_json(hw).dump(2));
    return 0;
  }
  if (o.model_path.empty()) fail("plan: -m/--model is required");
  const double kv_bytes = kv_elem_bytes(o.kv_cache_dtype);
  if (o.validate_path.empty() && o.context_len < 1)
    fail("plan: --context is required (tokens of context per user)");
  if (o.calibrate && !o.hardware_path.empty())
    fail("plan: --calibrate measures this machine; it cannot be combined with --hardware");
  bench::HardwareSpec hw = hardware(o);
  const auto model = Model::load(o.model_path);
  const bench::ModelShape m = bench::model_shape(*model, kv_bytes, o.block_size);
  if (o.calibrate) calibrate(hw, *model, m);
  if (!o.validate_path.empty()) return run_validate(o, m, hw);

  bench::PlanInputs in;
  in.context_len = o.context_len;
  in.output_len = o.output_len;
  in.users = o.users;
  in.max_num_seqs = o.max_num_seqs;
  in.replicas = o.replicas;
  in.prefill_token_budget = o.max_num_batched_tokens;
  const bench::PlanResult r = bench::plan(m, hw, in);
  if (o.json)
    fmt::print("{}\n", plan_json(m, hw, in, r).dump(2));
  else
    print_plan(m, hw, in, r);
  return 0;
}

const RegisterCommand reg{
    "plan", "Cost model: concurrency, prefill, decode, context switches for U users",
    [](CLI::App& sub) {
      auto o = std::make_shared<PlanOptions>();
      sub.add_option("-m,--model", o->model_path, "GGUF model file");
      sub.add_option("--hardware", o->hardware_path,
                     "Hardware JSON file (hardware/*.json); default: measure "
                     "this machine");
      sub.add_option("--context", o->context_len, "L: context tokens per user");
      sub.add_option("--users", o->users, "U: concurrent users")->capture_default_str();
      sub.add_option("--output-len", o->output_len, "N: tokens generated per user")
          ->capture_default_str();
      sub.add_option("--max-num-seqs", o->max_num_seqs,
                     "The engine's running-sequence limit per replica (0: "
                     "memory decides)")
          ->capture_default_str();
      sub.add_option("--replicas", o->replicas, "Engine replicas sharing the machine")
          ->capture_default_str();
      sub.add_option("--max-num-batched-tokens", o->max_num_batched_tokens,
                     "Prompt tokens one step may prefill, as the engine's flag (0: one prompt per "
                     "step)")
          ->capture_default_str();
      sub.add_option("--kv-cache-dtype", o->kv_cache_dtype, "f16 or f32, as the engine's flag")
          ->capture_default_str();
      sub.add_option("--block-size", o->block_size, "KV cache block size, tokens")
          ->capture_default_str();
      sub.add_option("--validate", o->validate_path,
                     "A sweep.json from `pareto bench sweep`: compare "
                     "predictions with it");
      sub.add_flag("--json", o->json, "Print JSON instead of tables");
      sub.add_flag("--calibrate", o->calibrate,
                   "Without --hardware: also measure the achieved fractions on the model now");
      sub.add_flag("--print-hardware", o->print_hardware,
                   "Print the hardware description (measured, or --hardware) "
                   "as JSON and exit");
      return [o] { return run_plan(*o); };
    }};

}  // namespace
}  // namespace pareto::cli
