#include "bench/sse_stream_parser.h"

namespace pareto::bench {

std::vector<SseEvent> SseStreamParser::feed(std::string_view bytes) {
  std::vector<SseEvent> out;
  size_t pos = 0;
  if (skip_lf_ && !bytes.empty()) {
    if (bytes.front() == '\n') pos = 1;
    skip_lf_ = false;
  }
  while (pos < bytes.size()) {
    const size_t eol = bytes.find_first_of("\r\n", pos);
    if (eol == std::string_view::npos) {
      pending_.append(bytes.substr(pos));
      break;
    }
    if (pending_.empty()) {
      line(bytes.substr(pos, eol - pos), out);
    } else {
      pending_.append(bytes.substr(pos, eol - pos));
      line(pending_, out);
      pending_.clear();
    }
    pos = eol + 1;
    if (bytes[eol] == '\r') {
      if (pos == bytes.size()) {
        skip_lf_ = true;  // the \n, if any, comes with the next chunk
      } else if (bytes[pos] == '\n') {
        ++pos;
      }
    }
  }
  return out;
}

std::vector<SseEvent> SseStreamParser::finish() {
  std::vector<SseEvent> out;
  if (!pending_.empty()) {
    const std::string last = std::move(pending_);
    pending_.clear();
    line(last, out);
  }
  dispatch(out);
  skip_lf_ = false;
  return out;
}

void SseStreamParser::line(std::string_view l, std::vector<SseEvent>& out) {
  if (l.empty()) return dispatch(out);
  if (l.front() == ':') return;  // comment (keep-alive)
  const size_t colon = l.find(':');
  const std::string_view field = l.substr(0, colon);
  std::string_view value =
      colon == std::string_view::npos ? std::string_view() : l.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) data_ += '\n';
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_ = std::string(value);
  } else if (field == "error") {
    // llama.cpp-style "error: {...}": an event of its own.
    event_ = "error";
    if (has_data_) data_ += '\n';
    data_.append(value);
    has_data_ = true;
  }
  // id, retry and unknown fields are ignored.
}

void SseStreamParser::dispatch(std::vector<SseEvent>& out) {
  if (has_data_) out.push_back({std::move(event_), std::move(data_)});
  event_.clear();
  data_.clear();
  has_data_ = false;
}

}  // namespace pareto::bench
