#include "server/ordered_json_parse.h"

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pareto::server {
namespace {

using json = nlohmann::ordered_json;
using Entries = json::object_t::Container;  // std::vector<std::pair<const std::string, json>>

// Below this many keys a linear scan finds a repeated key faster than hashing would; above it
// an object gets an index so that adding a key stays O(1).
constexpr size_t kScanLimit = 16;

// nlohmann's SAX interface, building the document as its DOM parser does, except that a key is
// appended without ordered_map's scan: a repeated key is found by a scan of small objects and by
// a hash index in large ones.
class OrderedBuilder {
 public:
  explicit OrderedBuilder(json& root) : root_(root) {}

  bool null() { return put(nullptr); }
  bool boolean(bool v) { return put(v); }
  bool number_integer(json::number_integer_t v) { return put(v); }
  bool number_unsigned(json::number_unsigned_t v) { return put(v); }
  bool number_float(json::number_float_t v, const json::string_t& /*text*/) { return put(v); }
  bool string(json::string_t& v) { return put(std::move(v)); }
  bool binary(json::binary_t& v) { return put(json::binary(std::move(v))); }

  bool start_object(std::size_t /*num_elements: unknown for text*/) {
    open(place(json::object()));
    return true;
  }
  bool key(json::string_t& k) {
    Frame& f = open_.back();
    // The vector under the ordered_map: its emplace and operator[] would scan for the key.
    Entries& entries = f.value->get_ref<json::object_t&>();
    if (const std::optional<size_t> pos = f.find(entries, k)) {
      value_slot_ = &entries[*pos].second;  // the later value replaces the earlier one
      return true;
    }
    if (f.index) f.index->emplace(k, entries.size());
    entries.emplace_back(std::move(k), nullptr);
    value_slot_ = &entries.back().second;
    return true;
  }
  bool end_object() {
    open_.pop_back();
    return true;
  }
  bool start_array(std::size_t /*num_elements*/) {
    open(place(json::array()));
    return true;
  }
  bool end_array() {
    open_.pop_back();
    return true;
  }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& /*ex*/) {
    return false;
  }

 private:
  // An open object or array. Pointers into the parent stay valid while a child is open: nothing
  // is added to a container until its last element is closed.
  struct Frame {
    json* value;
    std::unique_ptr<std::unordered_map<std::string, size_t>> index;  // key -> position

    // The position of key `k` in `entries`, if it is there.
    std::optional<size_t> find(const Entries& entries, const std::string& k) {
      if (!index && entries.size() >= kScanLimit) {
        index = std::make_unique<std::unordered_map<std::string, size_t>>();
        for (size_t i = 0; i < entries.size(); ++i) index->emplace(entries[i].first, i);
      }
      if (index) {
        auto it = index->find(k);
        if (it == index->end()) return std::nullopt;
        return it->second;
      }
      for (size_t i = 0; i < entries.size(); ++i)
        if (entries[i].first == k) return i;
      return std::nullopt;
    }
  };

  // Where the next value goes: the root, the end of the open array, or the slot of the last key.
  json* place(json&& v) {
    if (open_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json* parent = open_.back().value;
    if (parent->is_array()) {
      json::array_t& arr = parent->get_ref<json::array_t&>();
      arr.push_back(std::move(v));
      return &arr.back();
    }
    *value_slot_ = std::move(v);
    return value_slot_;
  }
  template <typename T>
  bool put(T&& v) {
    place(json(std::forward<T>(v)));
    return true;
  }
  void open(json* container) { open_.push_back(Frame{container, nullptr}); }

  json& root_;
  std::vector<Frame> open_;
  json* value_slot_ = nullptr;
};

}  // namespace

std::optional<nlohmann::ordered_json> parse_ordered_json(std::string_view text) {
  json root;
  OrderedBuilder builder(root);
  if (!json::sax_parse(text, &builder)) return std::nullopt;
  return root;
}

}  // namespace pareto::server
