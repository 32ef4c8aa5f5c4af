// Locations of test fixtures: the bundled model and the reference outputs in ../shared.
#pragma once

#include <string>

namespace pareto::test {

// Repository root (where CMakeLists.txt lives).
std::string source_dir();
// A scratch directory inside the build tree for files tests create.
std::string scratch_dir();
// ../shared/reference, or $PARETO_SHARED_DIR/reference when set.
std::string reference_dir();
// models/stories260K.gguf in the repository.
std::string stories_model();
// Reads a whole file; fails the current test (and returns "") if it cannot.
std::string read_file(const std::string& path);

}  // namespace pareto::test
