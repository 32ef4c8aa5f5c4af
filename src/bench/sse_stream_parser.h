// Incremental parser of a server-sent-events byte stream (the body of a streamed OpenAI response):
// bytes go in as they arrive, in chunks cut anywhere, and complete events come out. Follows the
// WHATWG event-stream rules that matter here: lines end in \n, \r\n or \r; "data:" lines of one
// event are joined with \n; one optional space after the colon is dropped; lines starting with ':'
// are comments; a blank line ends the event. The non-standard "error: {...}" line that some servers
// send is kept as an event named "error".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pareto::bench {

struct SseEvent {
  std::string event;  // the "event:" field ("" = the default "message"), or "error"
  std::string data;   // the joined data lines, e.g. a JSON chunk or "[DONE]"
};

class SseStreamParser {
 public:
  // Appends bytes and returns the events they complete (possibly none).
  std::vector<SseEvent> feed(std::string_view bytes);
  // At end of stream: an event whose data lines were not followed by a blank line (some servers end
  // without one) is returned, then the parser is reset.
  std::vector<SseEvent> finish();

 private:
  void line(std::string_view l, std::vector<SseEvent>& out);
  void dispatch(std::vector<SseEvent>& out);

  std::string pending_;   // bytes of an unfinished line
  bool skip_lf_ = false;  // the last line ended in \r: a following \n belongs to it
  std::string event_;
  std::string data_;
  bool has_data_ = false;
};

}  // namespace pareto::bench
