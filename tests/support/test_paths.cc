#include "support/test_paths.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace pareto::test {

std::string source_dir() {
  return PARETO_SOURCE_DIR;
}

std::string scratch_dir() {
  std::string dir = std::string(PARETO_BINARY_DIR) + "/test_scratch";
  std::filesystem::create_directories(dir);
  return dir;
}

std::string reference_dir() {
  if (const char* env = std::getenv("PARETO_SHARED_DIR")) return std::string(env) + "/reference";
  return source_dir() + "/../shared/reference";
}

std::string stories_model() {
  return source_dir() + "/models/stories260K.gguf";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path;
    return "";
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace pareto::test
