#include "model/sse_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/wire_fixture.h"

namespace chorus {
namespace {

struct Seen {
  std::string event;
  std::string data;
  std::string id;
  bool operator==(const Seen&) const = default;
};

std::vector<Seen> ParseInPieces(std::string_view text, const std::vector<size_t>& cuts) {
  SseParser parser;
  std::vector<Seen> seen;
  auto handler = [&](const SseEvent& e) {
    seen.push_back({std::string(e.event), std::string(e.data), std::string(e.id)});
    return true;
  };
  size_t start = 0;
  for (size_t cut : cuts) {
    EXPECT_TRUE(parser.Feed(text.substr(start, cut - start), handler));
    start = cut;
  }
  EXPECT_TRUE(parser.Feed(text.substr(start), handler));
  return seen;
}

std::vector<Seen> Parse(std::string_view text) { return ParseInPieces(text, {}); }

std::string ToCrLf(const std::string& lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

TEST(SseParser, ParsesDataEventsOfARecordedLlamaServerStream) {
  auto transcript =
      testing::ParseTranscript(testing::ReadFixture("llamaserver-c-stream-usage.http"));
  std::vector<Seen> events = Parse(transcript.body);
  ASSERT_EQ(events.size(), 20u);  // role, 16 content, finish, usage, [DONE]
  EXPECT_TRUE(events.front().data.starts_with("{\"choices\":[{\"finish_reason\":null"));
  EXPECT_EQ(events.back().data, "[DONE]");
}

TEST(SseParser, SplitsEventsAcrossChunkBoundariesAtEveryByteOffset) {
  auto transcript =
      testing::ParseTranscript(testing::ReadFixture("llamaserver-c-stream-usage.http"));
  for (const std::string& body : {transcript.body, ToCrLf(transcript.body)}) {
    std::vector<Seen> whole = Parse(body);
    for (size_t cut = 1; cut < body.size(); ++cut) {
      ASSERT_EQ(ParseInPieces(body, {cut}), whole) << "split at byte " << cut;
    }
  }
}

TEST(SseParser, SurvivesOneByteChunks) {
  auto transcript = testing::ParseTranscript(testing::ReadFixture("llamaserver-b-stream.http"));
  std::vector<size_t> cuts;
  for (size_t i = 1; i < transcript.body.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(ParseInPieces(transcript.body, cuts), Parse(transcript.body));
}

TEST(SseParser, JoinsMultiLineDataWithNewlines) {
  EXPECT_EQ(Parse("data: first\ndata:second\ndata:  third\n\n"),
            (std::vector<Seen>{{"", "first\nsecond\n third", ""}}));
}

TEST(SseParser, ReportsEventNamesAndIds) {
  EXPECT_EQ(
      Parse("event: message_start\nid: 7\ndata: {}\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\n"),
      (std::vector<Seen>{{"message_start", "{}", "7"}, {"ping", "{\"type\":\"ping\"}", "7"}}));
}

TEST(SseParser, IgnoresCommentsRetryAndUnknownFields) {
  EXPECT_EQ(Parse(": keep-alive\n\nretry: 100\nfoo: bar\ndata: x\n\n"),
            (std::vector<Seen>{{"", "x", ""}}));
}

TEST(SseParser, AcceptsCrLfAndBareCrLineEndings) {
  EXPECT_EQ(Parse("data: a\r\n\r\ndata: b\r\rdata: c\n\n"),
            (std::vector<Seen>{{"", "a", ""}, {"", "b", ""}, {"", "c", ""}}));
}

TEST(SseParser, CrLfSplitBetweenChunksIsOneLineEnd) {
  // "\r" ends one chunk and "\n" starts the next: still a single line break, so the blank line
  // that follows dispatches exactly one event.
  std::string text = "data: a\r\n\r\ndata: b\r\n\r\n";
  EXPECT_EQ(ParseInPieces(text, {8, 10}), (std::vector<Seen>{{"", "a", ""}, {"", "b", ""}}));
}

TEST(SseParser, DispatchesEmptyDataButNotEventsWithoutData) {
  EXPECT_EQ(Parse("event: ping\n\ndata:\n\n"), (std::vector<Seen>{{"", "", ""}}));
}

TEST(SseParser, NeverReportsAnEventWithoutItsBlankLine) {
  SseParser parser;
  int count = 0;
  EXPECT_TRUE(parser.Feed("data: complete\n\ndata: cut", [&](const SseEvent&) {
    ++count;
    return true;
  }));
  EXPECT_EQ(count, 1);
  EXPECT_GT(parser.buffered(), 0u);
}

TEST(SseParser, SkipsAByteOrderMarkEvenWhenSplit) {
  std::string text =
      "\xEF\xBB\xBF"
      "data: x\n\n";
  EXPECT_EQ(ParseInPieces(text, {1, 2}), (std::vector<Seen>{{"", "x", ""}}));
}

TEST(SseParser, RecognizesTheDoneSentinel) {
  SseParser parser;
  bool done = false;
  parser.Feed("data: [DONE]\n\n", [&](const SseEvent& e) {
    done = e.IsDone();
    return true;
  });
  EXPECT_TRUE(done);
}

TEST(SseParser, HandlerCanStopTheParse) {
  SseParser parser;
  int count = 0;
  EXPECT_FALSE(parser.Feed("data: 1\n\ndata: 2\n\n", [&](const SseEvent&) {
    ++count;
    return false;
  }));
  EXPECT_EQ(count, 1);
}

}  // namespace
}  // namespace chorus
