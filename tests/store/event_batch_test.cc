#include "store/event_batch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chorus::sqlite {
namespace {

using ::testing::HasSubstr;

Event MakeEvent(int64_t ts_ms, std::string kind, std::string step, std::string agent,
                std::string payload) {
  Event e;
  e.ts_ms = ts_ms;
  e.kind = std::move(kind);
  e.step = std::move(step);
  e.agent = std::move(agent);
  e.payload = std::move(payload);
  return e;
}

std::vector<Event> OddEvents() {
  return {
      MakeEvent(1'700'000'000'123, "run.started", "", "", "{}"),
      // Not JSON, with NUL bytes, invalid UTF-8 and 200 bytes of length (a two-byte varint).
      MakeEvent(-5, "llm.response", "reviews[3]", "critic",
                std::string("a\0b\xff", 4) + std::string(200, 'x')),
      MakeEvent(0, "", "", "", ""),
      MakeEvent(INT64_MAX, "k", "s", "a", std::string(70'000, '{')),
      MakeEvent(INT64_MIN, "k", "s", "a", "p"),
  };
}

// Names of any length: the room made for an event's head grows with them.
TEST(EventBatch, RoundTripsLongNames) {
  const Event long_names =
      MakeEvent(42, "k", "deep/" + std::string(300, 's'), std::string(5'000, 'a'), "{}");
  std::string body;
  AppendToBatch(body, long_names);
  AppendToBatch(body, MakeEvent(43, "short", "s", "a", "{}"));
  std::vector<Event> decoded;
  Status status = DecodeBatch(body, "run-1", 1, 2, "store.db", &decoded);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded[0].step, long_names.step);
  EXPECT_EQ(decoded[0].agent, long_names.agent);
  EXPECT_EQ(decoded[0].payload, "{}");
  EXPECT_EQ(decoded[1].kind, "short");
  EXPECT_EQ(decoded[1].ts_ms, 43);
}

// The row format is what older and newer builds read: this pins it byte for byte.
TEST(EventBatch, WritesTheDocumentedLayout) {
  std::string body;
  AppendToBatch(body, MakeEvent(-3, "k", "st", "", std::string(130, 'p')));
  // zigzag(-3) = 5; "k"; "st"; ""; then 130 as a two-byte varint (0x82 0x01) and the payload.
  const std::string head("\x05\x01k\x02st\x00\x82\x01", 9);
  ASSERT_EQ(body.size(), head.size() + 130);
  EXPECT_EQ(body.substr(0, head.size()), head);
  EXPECT_EQ(body.substr(head.size()), std::string(130, 'p'));
}

TEST(EventBatch, RoundTripsEveryFieldByteForByte) {
  const std::vector<Event> events = OddEvents();
  std::string body;
  for (const Event& e : events) AppendToBatch(body, e);

  std::vector<Event> decoded;
  Status status = DecodeBatch(body, "run-1", 7, 11, "store.db", &decoded);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(decoded.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(decoded[i].run_id, "run-1");
    EXPECT_EQ(decoded[i].seq, static_cast<int64_t>(7 + i));
    EXPECT_EQ(decoded[i].ts_ms, events[i].ts_ms);
    EXPECT_EQ(decoded[i].kind, events[i].kind);
    EXPECT_EQ(decoded[i].step, events[i].step);
    EXPECT_EQ(decoded[i].agent, events[i].agent);
    EXPECT_TRUE(decoded[i].payload == events[i].payload) << "payload of event " << i;
  }
}

TEST(EventBatch, ARowCutShortAnywhereIsDataLossAndKeepsTheWholeEventsBeforeTheCut) {
  const std::vector<Event> events = OddEvents();
  std::string body;
  std::vector<size_t> ends;
  for (const Event& e : events) {
    AppendToBatch(body, e);
    ends.push_back(body.size());
  }
  for (size_t cut = 0; cut < body.size(); cut += cut < 300 ? 1 : 997) {
    std::vector<Event> decoded;
    Status status =
        DecodeBatch(std::string_view(body).substr(0, cut), "run-1", 1, 5, "store.db", &decoded);
    ASSERT_EQ(status.code(), StatusCode::kDataLoss) << "cut at " << cut;
    EXPECT_THAT(status.message(), HasSubstr("store.db"));
    EXPECT_THAT(status.message(), HasSubstr("events 1..5 is damaged"));
    size_t whole = 0;
    while (whole < ends.size() && ends[whole] <= cut) ++whole;
    EXPECT_EQ(decoded.size(), whole) << "cut at " << cut;
  }
}

TEST(EventBatch, BytesAfterTheLastEventOrAMissingEventAreDataLoss) {
  std::string body;
  for (const Event& e : OddEvents()) AppendToBatch(body, e);
  std::vector<Event> decoded;
  // The row claims four events but holds five: the fifth is left over.
  Status extra = DecodeBatch(body, "run-1", 1, 4, "store.db", &decoded);
  EXPECT_EQ(extra.code(), StatusCode::kDataLoss);
  EXPECT_THAT(extra.message(), HasSubstr("bytes follow its last event"));
  // It claims six.
  decoded.clear();
  Status missing = DecodeBatch(body, "run-1", 1, 6, "store.db", &decoded);
  EXPECT_EQ(missing.code(), StatusCode::kDataLoss);
  EXPECT_THAT(missing.message(), HasSubstr("event 6 is cut short"));
}

TEST(EventBatch, ALengthPastTheEndIsRefusedWithoutReadingOutOfBounds) {
  std::string body;
  AppendToBatch(body, MakeEvent(1, "k", "s", "a", "payload"));
  // An overlong varint (eleven continuation bytes), then a length far past the end.
  for (const std::string& bad : {std::string(11, '\x80'), std::string("\x02\xff\xff\xff\x0f")}) {
    std::vector<Event> decoded;
    Status status = DecodeBatch(body + bad, "run-1", 1, 2, "store.db", &decoded);
    EXPECT_EQ(status.code(), StatusCode::kDataLoss);
    EXPECT_EQ(decoded.size(), 1u);
  }
}

}  // namespace
}  // namespace chorus::sqlite
