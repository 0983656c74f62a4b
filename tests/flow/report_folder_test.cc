// ReportFolder finds a map's items by position when they were reported in order after their
// map, and by its index otherwise: both ways fold every fact into the right step.
#include "flow/report_folder.h"

#include <gtest/gtest.h>

namespace chorus {
namespace {

std::string Item(const std::string& map, int i) { return map + "[" + std::to_string(i) + "]"; }

TEST(ReportFolder, InterleavedItemsOfTwoMapsKeepTheirOwnUsage) {
  RunReport report;
  ReportFolder folder(&report);
  folder.StepStarted("a", "", 1, "map", 3);
  folder.StepStarted("b", "", 1, "map", 3);
  // A parallel stage starts its two maps' items in turn: none sits where its map's position
  // would put it, except by accident.
  for (int i = 0; i < 3; ++i) {
    folder.StepStarted(Item("a", i), "x", 2, "map-item", 0);
    folder.StepStarted(Item("b", i), "y", 2, "map-item", 0);
  }
  for (int i = 0; i < 3; ++i) {
    folder.Answered(Item("a", i), "x", {10 + i, 1, 0.0});
    folder.Answered(Item("b", i), "y", {100 + i, 2, 0.0});
    folder.StepEnded(Item("b", i), "y", 3, true, "b" + std::to_string(i));
  }
  ASSERT_EQ(report.steps.size(), 8u);
  for (const StepReport& s : report.steps) {
    if (s.step == "a") {
      EXPECT_EQ(s.usage.input_tokens, 33);
    }
    if (s.step == "b") {
      EXPECT_EQ(s.usage.input_tokens, 303);
    }
    if (s.step == Item("a", 2)) {
      EXPECT_EQ(s.usage.input_tokens, 12);
    }
    if (s.step == Item("b", 1)) {
      EXPECT_EQ(s.usage.input_tokens, 101);
      EXPECT_EQ(s.output, "b1");
      EXPECT_EQ(s.status, "completed");
    }
  }
}

TEST(ReportFolder, ItemsInOrderAreFoundWithoutAnIndexAndOddPathsStillAre) {
  RunReport report;
  ReportFolder folder(&report);
  folder.StepStarted("fan", "", 1, "map", 1000);
  for (int i = 0; i < 1000; ++i) folder.StepStarted(Item("fan", i), "w", 2, "map-item", 0);
  folder.StepStarted("fan[x]", "w", 2, "task", 0);   // not a number: indexed
  folder.StepStarted("solo[3]", "w", 2, "task", 0);  // no such map: indexed
  folder.Answered(Item("fan", 999), "w", {7, 0, 0.0});
  folder.Answered("fan[x]", "w", {5, 0, 0.0});
  folder.Answered("solo[3]", "w", {3, 0, 0.0});
  folder.Answered("fan[1000]", "w", {1, 0, 0.0});  // past the items: nobody's but the map's
  EXPECT_EQ(report.steps[1000].usage.input_tokens, 7);
  EXPECT_EQ(report.steps[1001].usage.input_tokens, 5);
  EXPECT_EQ(report.steps[1002].usage.input_tokens, 3);
  EXPECT_EQ(report.steps[0].usage.input_tokens, 7 + 5 + 1);
  EXPECT_EQ(report.usage.input_tokens, 16);
}

// The synthesis that follows a wide map starts without moving the map's thousands of step
// reports to a larger list.
TEST(ReportFolder, TheStepAfterAWideMapFindsRoomBesideItsItems) {
  RunReport report;
  ReportFolder folder(&report);
  folder.StepStarted("fan", "", 1, "map", 1000);
  for (int i = 0; i < 1000; ++i) folder.StepStarted(Item("fan", i), "w", 2, "map-item", 0);
  const StepReport* first = report.steps.data();
  folder.StepStarted("summary", "w", 3, "synthesize", 0);
  folder.StepStarted("review", "w", 4, "task", 0);
  EXPECT_EQ(report.steps.data(), first);
  ASSERT_EQ(report.steps.size(), 1003u);
  EXPECT_EQ(report.steps.back().step, "review");
}

}  // namespace
}  // namespace chorus
