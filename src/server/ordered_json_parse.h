// JSON text -> nlohmann::ordered_json in time linear in the text. Request bodies are parsed this
// way so that chat templates see objects in the client's key order; nlohmann's own
// ordered_json::parse finds each key with a linear scan of its object, which makes one object of
// n keys cost O(n^2): a 2 MiB body of 200000 keys took 25 s of CPU, a 16 MiB one would take
// many minutes.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string_view>

namespace pareto::server {

// Parses `text` (one JSON value, nothing but whitespace after it; no comments), keeping every
// object's keys in the order they were written. A key written twice keeps its first position
// and its last value, as Python's json.loads does. nullopt when the text is not valid JSON.
std::optional<nlohmann::ordered_json> parse_ordered_json(std::string_view text);

}  // namespace pareto::server
