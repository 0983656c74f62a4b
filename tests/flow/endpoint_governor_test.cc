// EndpointGovernor and CircuitBreaker as pure logic: times are plain numbers (microseconds), so a
// minute-long window is tested without waiting for it.
#include "flow/endpoint_governor.h"

#include <gtest/gtest.h>

namespace chorus {
namespace {

constexpr int64_t kSecond = 1'000'000;
using Verdict = Admission::Verdict;

GovernorLimits Limits(int64_t rpm, int64_t tpm, int concurrency) {
  GovernorLimits l;
  l.rpm = rpm;
  l.tpm = tpm;
  l.concurrency = concurrency;
  l.window_us = 60 * kSecond;
  return l;
}

std::vector<uint64_t> Ids(const std::vector<Ticket>& tickets) {
  std::vector<uint64_t> ids;
  for (const Ticket& t : tickets) ids.push_back(t.id);
  return ids;
}

TEST(EndpointGovernor, RpmQueuesTheRestUntilTheOldestLeavesTheWindow) {
  EndpointGovernor g(Limits(2, 0, 0));
  EXPECT_EQ(g.Request(1, 0, false, 0).verdict, Verdict::kAdmit);
  EXPECT_EQ(g.Request(2, 0, false, 10 * kSecond).verdict, Verdict::kAdmit);
  Admission third = g.Request(3, 0, false, 20 * kSecond);
  EXPECT_EQ(third.verdict, Verdict::kWait);
  EXPECT_EQ(third.held_by, Limit::kRpm);
  ASSERT_TRUE(third.until_us);
  EXPECT_EQ(*third.until_us, 60 * kSecond);  // when request 1 leaves the window
  EXPECT_EQ(g.NextWakeUs(), 60 * kSecond);

  EXPECT_TRUE(g.Pump(60 * kSecond - 1).admitted.empty());
  EXPECT_EQ(Ids(g.Pump(60 * kSecond).admitted), std::vector<uint64_t>{3});
  EXPECT_EQ(g.queued(), 0u);
}

TEST(EndpointGovernor, NeverMoreThanRpmInAnyWindow) {
  // 25 requests asked for at once, 5 per 60 s: sent in bursts of 5, one window apart.
  EndpointGovernor g(Limits(5, 0, 0));
  std::vector<int64_t> sent_at;
  for (uint64_t id = 0; id < 25; ++id) {
    if (g.Request(id, 0, false, 0).verdict == Verdict::kAdmit) sent_at.push_back(0);
  }
  int64_t now = 0;
  while (g.queued() > 0) {
    std::optional<int64_t> wake = g.NextWakeUs();
    ASSERT_TRUE(wake);
    ASSERT_GT(*wake, now) << "a wake-up that admits nothing would spin";
    now = *wake;
    size_t admitted = g.Pump(now).admitted.size();
    ASSERT_GT(admitted, 0u);
    sent_at.insert(sent_at.end(), admitted, now);
  }
  ASSERT_EQ(sent_at.size(), 25u);
  for (size_t i = 0; i + 5 < sent_at.size(); ++i) {
    EXPECT_GE(sent_at[i + 5] - sent_at[i], 60 * kSecond) << "request " << i + 5;
  }
}

TEST(EndpointGovernor, TpmChargesReservationAndCorrectsWithReportedUsage) {
  EndpointGovernor g(Limits(0, 1000, 0));
  EXPECT_EQ(g.Request(1, 600, false, 0).verdict, Verdict::kAdmit);
  Admission second = g.Request(2, 600, false, 0);
  EXPECT_EQ(second.held_by, Limit::kTpm);
  EXPECT_EQ(second.until_us, 60 * kSecond);
  // The server reports that request 1 used only 150 tokens: request 2 fits now.
  g.Finished(1, RequestOutcome::kAnswered, 150, std::nullopt, "", kSecond);
  EXPECT_EQ(Ids(g.Pump(kSecond).admitted), std::vector<uint64_t>{2});
}

TEST(EndpointGovernor, RequestLargerThanTheWholeTpmWindowNeverFits) {
  EndpointGovernor g(Limits(0, 1000, 0));
  EXPECT_EQ(g.Request(1, 1001, false, 0).verdict, Verdict::kNeverFits);
}

TEST(EndpointGovernor, QueueIsFirstComeFirstServedEvenForSmallerRequests) {
  EndpointGovernor g(Limits(0, 1000, 0));
  ASSERT_EQ(g.Request(1, 900, false, 0).verdict, Verdict::kAdmit);
  EXPECT_EQ(g.Request(2, 500, false, 0).verdict, Verdict::kWait);
  // 50 tokens would fit, but request 2 came first.
  Admission small = g.Request(3, 50, false, 0);
  EXPECT_EQ(small.verdict, Verdict::kWait);
  EXPECT_EQ(small.ahead, 1u);
  EXPECT_EQ(small.held_by, Limit::kTpm);
  EXPECT_EQ(Ids(g.Pump(60 * kSecond).admitted), (std::vector<uint64_t>{2, 3}));
}

TEST(EndpointGovernor, ConcurrencyReleasesOnFinishNotOnTime) {
  EndpointGovernor g(Limits(0, 0, 2));
  g.Request(1, 0, false, 0);
  g.Request(2, 0, false, 0);
  Admission third = g.Request(3, 0, false, 0);
  EXPECT_EQ(third.held_by, Limit::kConcurrency);
  EXPECT_FALSE(third.until_us);
  EXPECT_FALSE(g.NextWakeUs()) << "only a finishing request frees a slot";
  EXPECT_TRUE(g.Pump(100 * kSecond).admitted.empty());
  g.Finished(1, RequestOutcome::kAnswered, -1, std::nullopt, "", 100 * kSecond);
  EXPECT_EQ(Ids(g.Pump(100 * kSecond).admitted), std::vector<uint64_t>{3});
  EXPECT_EQ(g.in_flight(), 2);
}

TEST(EndpointGovernor, RetryAfterPausesTheWholeEndpoint) {
  EndpointGovernor g(Limits(0, 0, 0));
  g.Request(1, 0, false, 0);
  g.Finished(1, RequestOutcome::kRateLimited, 0, 2 * kSecond, "", kSecond);
  EXPECT_EQ(g.TakePause(), 3 * kSecond);
  EXPECT_FALSE(g.TakePause());
  Admission other = g.Request(2, 0, false, kSecond);
  EXPECT_EQ(other.held_by, Limit::kRetryAfter);
  EXPECT_EQ(other.until_us, 3 * kSecond);
  EXPECT_EQ(g.circuit(), CircuitState::kClosed) << "429 says slow down, not down";
  EXPECT_EQ(Ids(g.Pump(3 * kSecond).admitted), std::vector<uint64_t>{2});
}

GovernorLimits Circuit(int failures) {
  GovernorLimits l;
  l.circuit_failures = failures;
  l.circuit_cool_down_us = 10 * kSecond;
  return l;
}

void Fail(EndpointGovernor& g, uint64_t id, int64_t now) {
  ASSERT_EQ(g.Request(id, 0, false, now).verdict, Verdict::kAdmit);
  g.Finished(id, RequestOutcome::kFailed, -1, std::nullopt, "HTTP 503", now);
}

TEST(EndpointGovernor, CircuitOpensAfterConsecutiveFailuresAndRejectsWhoCanFailOver) {
  EndpointGovernor g(Circuit(3));
  Fail(g, 1, 0);
  Fail(g, 2, 0);
  EXPECT_TRUE(g.TakeCircuitChanges().empty());
  Fail(g, 3, kSecond);
  std::vector<CircuitChange> changes = g.TakeCircuitChanges();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, CircuitState::kOpen);
  EXPECT_EQ(changes[0].failures, 3);
  EXPECT_EQ(changes[0].cause, "HTTP 503");

  EXPECT_EQ(g.Request(4, 0, /*can_fail_over=*/true, kSecond).verdict, Verdict::kReject);
  Admission stays = g.Request(5, 0, /*can_fail_over=*/false, kSecond);
  EXPECT_EQ(stays.verdict, Verdict::kWait);
  EXPECT_EQ(stays.held_by, Limit::kCircuit);
  EXPECT_EQ(stays.until_us, 11 * kSecond);
}

TEST(EndpointGovernor, AnAnswerBetweenFailuresResetsTheCount) {
  EndpointGovernor g(Circuit(3));
  Fail(g, 1, 0);
  Fail(g, 2, 0);
  g.Request(3, 0, false, 0);
  g.Finished(3, RequestOutcome::kAnswered, -1, std::nullopt, "", 0);
  Fail(g, 4, 0);
  Fail(g, 5, 0);
  EXPECT_EQ(g.circuit(), CircuitState::kClosed);
}

TEST(EndpointGovernor, HalfOpenLetsOneProbeThroughAndItsSuccessCloses) {
  EndpointGovernor g(Circuit(1));
  Fail(g, 1, 0);
  g.TakeCircuitChanges();
  g.Request(2, 0, false, kSecond);
  g.Request(3, 0, false, kSecond);
  EXPECT_EQ(g.NextWakeUs(), 10 * kSecond);
  EndpointGovernor::Released probe = g.Pump(10 * kSecond);
  EXPECT_EQ(Ids(probe.admitted), std::vector<uint64_t>{2}) << "exactly one probe";
  std::vector<CircuitChange> half = g.TakeCircuitChanges();
  ASSERT_EQ(half.size(), 1u);
  EXPECT_EQ(half[0].to, CircuitState::kHalfOpen);
  EXPECT_TRUE(g.Pump(11 * kSecond).admitted.empty());

  g.Finished(2, RequestOutcome::kAnswered, -1, std::nullopt, "", 12 * kSecond);
  std::vector<CircuitChange> closed = g.TakeCircuitChanges();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].to, CircuitState::kClosed);
  EXPECT_EQ(closed[0].cause, "the half-open probe succeeded");
  EXPECT_EQ(Ids(g.Pump(12 * kSecond).admitted), std::vector<uint64_t>{3});
}

TEST(EndpointGovernor, FailedProbeOpensAgainForAnotherCoolDown) {
  EndpointGovernor g(Circuit(2));
  Fail(g, 1, 0);
  Fail(g, 2, 0);
  g.Pump(10 * kSecond);  // half-open
  Fail(g, 3, 10 * kSecond);
  std::vector<CircuitChange> changes = g.TakeCircuitChanges();
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[2].to, CircuitState::kOpen);
  EXPECT_EQ(changes[2].cause, "the half-open probe failed: HTTP 503");
  EXPECT_EQ(g.Request(4, 0, false, 15 * kSecond).until_us, 20 * kSecond);
}

TEST(EndpointGovernor, QueuedRequestsThatCanFailOverLeaveWhenTheCircuitOpens) {
  GovernorLimits limits = Circuit(1);
  limits.concurrency = 1;
  EndpointGovernor g(limits);
  ASSERT_EQ(g.Request(1, 0, false, 0).verdict, Verdict::kAdmit);
  EXPECT_EQ(g.Request(2, 0, true, 0).verdict, Verdict::kWait);
  EXPECT_EQ(g.Request(3, 0, false, 0).verdict, Verdict::kWait);
  g.Finished(1, RequestOutcome::kFailed, -1, std::nullopt, "connection refused", 0);
  EndpointGovernor::Released released = g.Pump(0);
  EXPECT_EQ(Ids(released.rejected), std::vector<uint64_t>{2});
  EXPECT_TRUE(released.admitted.empty());
  EXPECT_EQ(g.queued(), 1u);
}

TEST(EndpointGovernor, ZeroFailuresDisablesTheBreaker) {
  EndpointGovernor g(Circuit(0));
  for (uint64_t id = 0; id < 50; ++id) Fail(g, id, 0);
  EXPECT_EQ(g.circuit(), CircuitState::kClosed);
}

}  // namespace
}  // namespace chorus
