// A model and its tokenizer loaded for a CLI command, with the load logged.
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace pareto::cli {

struct LoadedModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
};

// Throws pareto::Error naming the file on any problem. Weights are read into huge-page memory
// with a progress bar on a terminal, or memory-mapped when mmap is set.
std::unique_ptr<Model> load_weights(const std::string& path, bool mmap);
// load_weights, the tokenizer, and a log line.
LoadedModel load_model(const std::string& path, bool mmap);

// The --mmap flag of the commands that run a model.
void add_mmap_option(CLI::App& app, bool& mmap);

// A progress callback (bytes done, total) that draws "LABEL [###  ] 42% (N MiB)" on stderr
// when it is a terminal, redrawing only when the percentage changes; a newline at the end.
std::function<void(size_t, size_t)> progress_bar(std::string label);

}  // namespace pareto::cli
