// The SSE parser against streams cut at every possible byte boundary, with \n, \r\n and \r line
// ends, multi-line data, comments and the stream's end without a blank line.
#include "bench/sse_stream_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pareto::bench {
namespace {

std::vector<SseEvent> parse_in_pieces(const std::string& stream, size_t piece) {
  SseStreamParser p;
  std::vector<SseEvent> out;
  for (size_t i = 0; i < stream.size(); i += piece)
    for (SseEvent& e : p.feed(std::string_view(stream).substr(i, piece))) out.push_back(e);
  for (SseEvent& e : p.finish()) out.push_back(e);
  return out;
}

std::vector<std::string> datas(const std::vector<SseEvent>& events) {
  std::vector<std::string> out;
  for (const SseEvent& e : events) out.push_back(e.data);
  return out;
}

TEST(SseStreamParser, OpenAiStreamAtEveryChunkSize) {
  const std::string stream =
      "data: {\"choices\":[{\"text\":\"a\"}]}\n\n"
      "data: {\"choices\":[{\"text\":\"b\\n\"}]}\n\n"
      ": keep-alive\n\n"
      "data: [DONE]\n\n";
  const std::vector<std::string> want = {"{\"choices\":[{\"text\":\"a\"}]}",
                                         "{\"choices\":[{\"text\":\"b\\n\"}]}", "[DONE]"};
  for (size_t piece = 1; piece <= stream.size(); ++piece)
    EXPECT_EQ(datas(parse_in_pieces(stream, piece)), want) << "piece " << piece;
}

TEST(SseStreamParser, CrLfAndCrLineEndsSplitAnywhere) {
  for (const std::string eol : {"\r\n", "\r", "\n"}) {
    const std::string stream = "data: one" + eol + eol + "data:two" + eol + eol;
    for (size_t piece = 1; piece <= stream.size(); ++piece) {
      const auto events = parse_in_pieces(stream, piece);
      ASSERT_EQ(datas(events), (std::vector<std::string>{"one", "two"}))
          << "eol " << eol.size() << " piece " << piece;
    }
  }
}

TEST(SseStreamParser, CrLfSplitBetweenChunksIsOneLineEnd) {
  SseStreamParser p;
  EXPECT_TRUE(p.feed("data: x\r").empty());
  // The \n completes the \r of the previous chunk; the next \r\n is the blank line.
  const auto events = p.feed("\n\r\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "x");
}

TEST(SseStreamParser, MultiLineDataEventNamesAndIgnoredFields) {
  SseStreamParser p;
  const auto events =
      p.feed("id: 7\nevent: update\ndata: first\ndata:  second\nretry: 10\n\ndata\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "update");
  EXPECT_EQ(events[0].data, "first\n second");  // only one space after the colon is dropped
  EXPECT_EQ(events[1].event, "");
  EXPECT_EQ(events[1].data, "");  // a bare "data" line is an empty data line
}

TEST(SseStreamParser, EventWithoutDataIsNotDispatched) {
  SseStreamParser p;
  EXPECT_TRUE(p.feed("event: ping\n\n: comment\n\n\n\n").empty());
  const auto events = p.feed("data: y\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "");  // the earlier event name was reset by its blank line
}

TEST(SseStreamParser, ErrorLineIsAnErrorEvent) {
  SseStreamParser p;
  const auto events = p.feed("error: {\"message\":\"boom\"}\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "error");
  EXPECT_EQ(events[0].data, "{\"message\":\"boom\"}");
}

TEST(SseStreamParser, FinishFlushesAnUnterminatedEvent) {
  SseStreamParser p;
  EXPECT_TRUE(p.feed("data: [DONE]").empty());
  const auto events = p.finish();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "[DONE]");
  EXPECT_TRUE(p.finish().empty());
}

}  // namespace
}  // namespace pareto::bench
