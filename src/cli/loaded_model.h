// A model and its tokenizer loaded for a CLI command, with the load logged.
#pragma once

#include <memory>
#include <string>

#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace pareto::cli {

struct LoadedModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
};

// Throws pareto::Error naming the file on any problem.
LoadedModel load_model(const std::string& path);

}  // namespace pareto::cli
