// Workloads for `pareto bench serve`: the prompts a benchmark sends and how many tokens each asks
// for. Four datasets (see docs/bench_workloads.md):
//   random        random vocabulary tokens decoded to text, lengths uniform around --input-len
//   sharegpt      the first human turn of ShareGPT conversations; output length from the reply
//   shared-prefix one of --num-prefixes random prefixes of --prefix-len tokens + a random suffix
//   rag           k distinct chunks of a corpus + a question, so chunks recur across requests
// Everything is deterministic for a seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pareto {
class Tokenizer;
}

namespace pareto::bench {

struct BenchPrompt {
  std::string prompt;      // text: the "prompt" of /v1/completions or the user message of chat
  int64_t prompt_len = 0;  // tokens as counted by the tokenizer that built it (0 = unknown)
  int64_t output_len = 0;  // max_tokens to ask for
};

struct DatasetOptions {
  std::string name = "random";  // random | sharegpt | shared-prefix | rag
  int64_t num_prompts = 100;
  uint64_t seed = 0;
  // random: lengths drawn uniformly in [len*(1-range_ratio), len*(1+range_ratio)], at least 1.
  int64_t input_len = 1024, output_len = 128;
  double range_ratio = 0.0;
  std::string dataset_path;  // sharegpt JSON file, or the rag corpus (see below)
  // shared-prefix: each prompt = one of num_prefixes random prefixes of prefix_len tokens +
  // a random suffix of input_len tokens.
  int64_t prefix_len = 256, num_prefixes = 4;
  int64_t rag_chunks_per_request = 4;                // rag: k random chunks + a question
  int64_t rag_chunk_len = 256, rag_num_chunks = 32;  // synthetic corpus when dataset_path is empty
  // sharegpt: when true, output_len (if > 0) replaces the length of each conversation's reply.
  // The CLI sets it when --output-len is given explicitly.
  bool output_len_override = false;
};

// Builds the workload. `tokenizer` (may be null) counts/creates exact token lengths; without one,
// text is built from words and prompt_len is an estimate (about one token per word). Bad options
// or a bad file -> pareto::Error with a clear message naming the file and what is wrong.
std::vector<BenchPrompt> build_dataset(const DatasetOptions& opts, const Tokenizer* tokenizer);

}  // namespace pareto::bench
