// The run progress printer, fed events directly: on a terminal a map is one line redrawn in
// place (carriage return + erase) that ends with a newline when the map ends; elsewhere it is
// plain lines, at most one a second of event time, and the last one.
#include "cli/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace chorus::cli {
namespace {

class Captured {
 public:
  Captured() : file_(std::tmpfile()) {}
  ~Captured() { std::fclose(file_); }
  std::FILE* file() { return file_; }
  std::string Text() {
    std::fflush(file_);
    std::rewind(file_);
    std::string out;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, file_)) > 0;) out.append(buf, n);
    return out;
  }

 private:
  std::FILE* file_;
};

Event At(int64_t ts_ms, std::string kind, std::string step, std::string agent = "") {
  Event e;
  e.run_id = "run1";
  e.ts_ms = ts_ms;
  e.kind = std::move(kind);
  e.step = std::move(step);
  e.agent = std::move(agent);
  return e;
}

// A map of `items` items, one starting and one finishing every `step_ms`; item 3 fails.
void FeedMap(ProgressPrinter& p, int items, int64_t step_ms) {
  p.OnEvent(At(0, "step.started", "m"), {{"kind", "map"}, {"items", items}, {"concurrency", 2}});
  for (int i = 0; i < items; ++i) {
    std::string path = "m[" + std::to_string(i) + "]";
    int64_t t = i * step_ms;
    p.OnEvent(At(t, "step.started", path, "a"), {{"kind", "map-item"}, {"item", "x"}});
    p.OnEvent(At(t + 1, "llm.response", path, "a"),
              {{"usage", {{"input_tokens", 10}, {"output_tokens", 5}, {"cost_usd", 0.001}}}});
    if (i == 3) {
      p.OnEvent(At(t + 2, "step.failed", path, "a"), {{"error", "boom"}});
    } else {
      p.OnEvent(At(t + 2, "step.completed", path, "a"), {{"output", "ok"}});
    }
  }
}

TEST(Progress, PlainLinesAtMostOncePerSecondAndAtTheEnd) {
  Captured out;
  ProgressPrinter p(out.file(), /*verbose=*/false, /*live=*/false);
  FeedMap(p, 20, 300);  // 20 items over ~6 s of event time
  std::string text = out.Text();
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(text.find("\x1b["), std::string::npos);
  size_t lines = 0;
  for (size_t at = text.find("  ▸ m "); at != std::string::npos; at = text.find("  ▸ m ", at + 1)) {
    ++lines;
  }
  // The map's opening line, about one line per second of the ~6 s, and the last.
  EXPECT_GE(lines, 5u) << text;
  EXPECT_LE(lines, 9u) << text;
  EXPECT_NE(text.find("19/20 done, 0 running, 1 failed, 300 tokens, $0.0200"), std::string::npos)
      << text;
  EXPECT_NE(text.find(", ETA "), std::string::npos) << text;
  EXPECT_EQ(text.find("m[5]"), std::string::npos) << "a map of 20 prints no line per item";
}

TEST(Progress, TerminalRedrawsOneLineAndEndsItWithTheMap) {
  Captured out;
  ProgressPrinter p(out.file(), /*verbose=*/false, /*live=*/true);
  FeedMap(p, 6, 300);
  std::string text = out.Text();
  EXPECT_NE(text.find("\r\x1b[K  ▸ m "), std::string::npos) << text;
  EXPECT_NE(text.find("1 running"), std::string::npos) << text;
  // The last redraw is the final count and ends the line.
  size_t last = text.rfind("\r\x1b[K");
  ASSERT_NE(last, std::string::npos);
  std::string final_line = text.substr(last);
  EXPECT_NE(final_line.find("5/6 done, 0 running, 1 failed, 90 tokens"), std::string::npos)
      << final_line;
  EXPECT_EQ(final_line.back(), '\n');
  // No per-item lines even for a small map: the live line replaces them.
  EXPECT_EQ(text.find("m[2]"), std::string::npos) << text;
}

TEST(Progress, AStagedSynthesisCountsItsPartsLikeAMapsItems) {
  Captured out;
  ProgressPrinter p(out.file(), /*verbose=*/false, /*live=*/false);
  p.OnEvent(At(0, "synthesis.staged", "sum"), {{"level", 1},
                                               {"parts", 20},
                                               {"inputs", 3000},
                                               {"tokens", 368003},
                                               {"budget", 3474},
                                               {"window", 8000}});
  for (int i = 0; i < 20; ++i) {
    const std::string path = "sum[1." + std::to_string(i) + "]";
    p.OnEvent(At(i, "step.started", path, "a"), {{"kind", "synthesis-part"}});
    p.OnEvent(At(i, "step.completed", path, "a"), {{"output", "ok"}});
  }
  p.OnEvent(At(30, "synthesis.staged", "sum"),
            {{"level", 2}, {"parts", 1}, {"inputs", 20}, {"tokens", 900}});
  std::string text = out.Text();
  EXPECT_NE(text.find("sum                                   staged synthesis, level 1: 20 parts "
                      "of at most 3474 tokens (368003 in all, window 8000)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("20/20 done, 0 running, 0 failed"), std::string::npos) << text;
  EXPECT_NE(text.find("staged synthesis, level 2: one prompt over 20 partial syntheses"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("sum[1.5]"), std::string::npos) << "20 parts print no line each";
}

TEST(Progress, RouteDecisionsArePrinted) {
  Captured out;
  ProgressPrinter p(out.file(), /*verbose=*/false);
  p.OnEvent(At(0, "route.decision", "answer", "risk_lead"),
            {{"rule", "routes[0]"}, {"winner", {{"id", "7.2.1"}, {"name", "Pre-mortem"}}}});
  p.OnEvent(At(0, "route.delegation", "answer", "strategist"),
            {{"mode", "local"}, {"rule", "local_if.max_words"}});
  std::string text = out.Text();
  EXPECT_NE(text.find("routed (routes[0]): 7.2.1 Pre-mortem"), std::string::npos) << text;
  EXPECT_NE(text.find("local (local_if.max_words)"), std::string::npos) << text;
}

}  // namespace
}  // namespace chorus::cli
