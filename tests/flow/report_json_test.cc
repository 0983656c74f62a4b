// ReportToJsonText writes the document ReportToJson builds, byte for byte.
#include <gtest/gtest.h>

#include "chorus/run.h"

namespace chorus {
namespace {

std::string ViaTree(const RunReport& r) {
  return ReportToJson(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

StepReport Step(std::string path, std::string agent, Usage usage) {
  StepReport s;
  s.step = std::move(path);
  s.kind = "map-item";
  s.agent = std::move(agent);
  s.model = "m";
  s.status = "completed";
  s.attempts = 2;
  s.usage = usage;
  s.started_ms = 1000;
  s.finished_ms = 1234;
  return s;
}

TEST(ReportJson, EmptyReportMatches) {
  RunReport r;
  EXPECT_EQ(ReportToJsonText(r), ViaTree(r));
}

TEST(ReportJson, FullReportMatchesByteForByte) {
  RunReport r;
  r.run_id = "01RUN";
  r.team = "t\"eam";
  r.status = RunStatus::kFailed;
  r.output = "line one\nline \"two\"\t\x01 caf\xc3\xa9 \xff\xfe broken";  // invalid UTF-8 too
  r.error = "step 'fan[3]' failed: \xc3";
  r.notices = {"model 'fast' runs on offline", "second"};
  r.usage = {1234, 56, 0.0123456789};
  r.usage_by_agent["writer"] = {10, 2, 0.5};
  r.usage_by_agent["a\"gent"] = {1, 1, 1e-9};
  for (int i = 12; i >= 0; --i) {  // paths that sort differently as text and as numbers
    r.steps.push_back(Step("fan[" + std::to_string(i) + "]", "writer", {i, 2 * i, i * 0.001}));
  }
  r.steps.push_back(Step("fan", "", {}));
  r.steps.back().kind = "map";
  r.steps.back().finished_ms = 0;
  r.steps[3].error = "timed out\n";
  EXPECT_EQ(ReportToJsonText(r), ViaTree(r));
}

TEST(ReportJson, ALaterReportOfTheSamePathWinsInUsageByStep) {
  RunReport r;
  r.steps.push_back(Step("s", "a", {1, 1, 0.1}));
  r.steps.push_back(Step("s", "a", {7, 7, 0.7}));
  EXPECT_EQ(ReportToJsonText(r), ViaTree(r));
}

}  // namespace
}  // namespace chorus
