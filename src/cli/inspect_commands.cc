// `chorus runs` and `chorus show`: readers of the store. They never contact a model.
#include <cstdio>

#include "chorus/run.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/conversation_events.h"
#include "cli/quality_events.h"
#include "flow/message_contents.h"

namespace chorus::cli {
namespace {

nlohmann::json RunJson(const RunRecord& r) {
  return {{"run_id", r.run_id},
          {"team", r.team},
          {"team_path", r.team_path},
          {"status", std::string(RunStatusName(EffectiveRunStatus(r)))},
          {"started_ms", r.started_ms},
          {"finished_ms", r.finished_ms},
          {"input_tokens", r.input_tokens},
          {"output_tokens", r.output_tokens},
          {"tokens", r.input_tokens + r.output_tokens},
          {"cost_usd", r.cost_usd}};
}

std::string ResolvedStore(const std::string& store) {
  return store.empty() ? DefaultStorePath("") : store;
}

// Endpoint budgets, circuit breakers and failover; "" for other kinds.
std::string DescribeLimitEvent(const std::string& k, const nlohmann::json& p) {
  const std::string endpoint = p.value("endpoint", "");
  if (k == "llm.throttled") {
    const std::string limit = p.value("limit", "");
    std::string s = "queued for " + endpoint + ": " +
                    (limit == "queue" ? std::string("its turn") : limit + " limit");
    if (p.value("ahead", 0) > 0) s += ", " + std::to_string(p.value("ahead", 0)) + " ahead";
    if (p.contains("wait_ms")) s += ", about " + FormatDuration(p.value("wait_ms", 0));
    if (p.contains("tokens")) s += " (" + std::to_string(p.value("tokens", 0)) + " tokens)";
    return s;
  }
  if (k == "llm.failover") {
    return p.value("from", "") + " → " + p.value("to", "") + " (" + p.value("reason", "") +
           "): " + p.value("error", "");
  }
  if (k == "endpoint.paused") {
    return endpoint + " paused for " + FormatDuration(p.value("pause_ms", 0)) + ": " +
           p.value("cause", "");
  }
  if (k == "circuit.opened") {
    return endpoint + " opened after " + std::to_string(p.value("failures", 0)) +
           " consecutive failures, refusing requests for " +
           FormatDuration(p.value("cool_down_ms", 0)) + "; last: " + p.value("cause", "");
  }
  if (k == "circuit.half_open" || k == "circuit.closed") {
    return endpoint + (k == "circuit.closed" ? " closed: " : " half-open: ") + p.value("cause", "");
  }
  return "";
}

// "pseudonymized confidential from inputs.notes → researcher on fast (cloud, reads at most
// internal): PERSON ×2, EMAIL ×1". Counts only: the event never holds the values.
std::string DescribeCrossing(const nlohmann::json& p) {
  std::string from;
  for (const auto& f : p.value("from", nlohmann::json::array())) {
    from += (from.empty() ? "" : ", ") + f.get<std::string>();
  }
  std::string s = p.value("action", "") + " " + p.value("label", "") + " from " + from + " → " +
                  p.value("to", "") + " on " + p.value("endpoint", "") + " (" +
                  p.value("locality", "") + ", reads at most " + p.value("allowed", "") + ")";
  std::string counts;
  const nlohmann::json by_type = p.value("counts", nlohmann::json::object());
  for (const auto& [type, n] : by_type.items()) {
    counts += (counts.empty() ? "" : ", ") + type + " ×" + std::to_string(n.get<int>());
  }
  return s + ": " + (counts.empty() ? "nothing to replace" : counts);
}

// One line describing an event's payload, for the timeline.
std::string Describe(const Event& e, const nlohmann::json& p, bool full) {
  auto text = [&](const std::string& s) { return full ? s : Truncate(s, 100); };
  const std::string& k = e.kind;
  if (k == "run.started") {
    std::string out = "team " + p.value("team", "");
    const nlohmann::json inputs = p.value("inputs", nlohmann::json::object());
    for (const auto& [name, v] : inputs.items()) {
      out += "; input " + name + " (" + FormatBytes(v.value("text", "").size());
      if (v.contains("label")) out += " " + v.value("label", "");
      if (!v.value("source", "").empty()) out += " from " + v.value("source", "");
      out += ")";
    }
    for (const auto& n : p.value("notices", nlohmann::json::array())) {
      out += "; note: " + n.get<std::string>();
    }
    return out;
  }
  if (k == "run.resumed") {
    return "by process " + std::to_string(p.value("pid", 0)) + " (process " +
           std::to_string(p.value("previous_pid", 0)) + " is gone); " +
           std::to_string(p.value("recorded_events", 0)) + " recorded events kept, " +
           std::to_string(p.value("recorded_answers", 0)) + " recorded answers reused";
  }
  if (k == "step.started") {
    std::string kind = p.value("kind", "");
    if (kind == "map") {
      return "map over " + std::to_string(p.value("items", 0)) + " items, " +
             std::to_string(p.value("concurrency", 0)) + " at a time";
    }
    return kind + (p.contains("item") ? " on item: " + text(p.value("item", "")) : "");
  }
  if (k == "synthesis.staged") return DescribeStagedSynthesis(p);
  if (k == "brief.dispatched") {
    const auto& out = p.value("output", nlohmann::json::object());
    std::string s = "objective: " + text(p.value("objective", "")) + " | " +
                    std::to_string(p.value("context", nlohmann::json::array()).size()) +
                    " context item(s), output " + out.value("format", "text");
    auto sections = out.value("sections", nlohmann::json::array());
    if (!sections.empty()) s += " with sections " + sections.dump();
    return s;
  }
  if (k == "llm.message") {
    // With --full the requests that name it print it.
    return "content " + p.value("id", "") + ", " + FormatBytes(p.value("content", "").size()) +
           ", recorded once; requests name it";
  }
  if (k == "llm.request") {
    size_t bytes = 0;
    const auto& messages = p.value("messages", nlohmann::json::array());
    for (const auto& m : messages) bytes += m.value("content", "").size();
    std::string s =
        (p.value("purpose", "") == "handoff" ? "handoff brief request, attempt " : "attempt ") +
        std::to_string(p.value("attempt", 0)) + " → " + p.value("endpoint", "") + " (" +
        p.value("model", "") + "), " + std::to_string(messages.size()) + " messages, " +
        FormatBytes(bytes);
    if (p.value("resent", false)) s += ", sent again after a resume (same idempotency key)";
    if (p.contains("queued_ms")) {
      s += ", after " + FormatDuration(p.value("queued_ms", 0)) + " queued";
    }
    if (full) {
      for (const auto& m : messages) {
        s += "\n        [" + m.value("role", "") + "] " + m.value("content", "");
      }
    }
    return s;
  }
  if (k == "llm.response") {
    const auto& u = p.value("usage", nlohmann::json::object());
    std::string s = "attempt " + std::to_string(p.value("attempt", 0)) + " ← " +
                    std::to_string(u.value("input_tokens", 0)) + " in / " +
                    std::to_string(u.value("output_tokens", 0)) + " out tokens" +
                    (u.value("estimated", false) ? " (estimated)" : "") + ", " +
                    FormatCost(u.value("cost_usd", 0.0)) + ", " +
                    FormatDuration(p.value("latency_ms", 0)) + ", finish " +
                    p.value("finish_reason", "");
    if (p.contains("warning")) s += "; warning: " + p.value("warning", "");
    return s + (full ? "\n        " + p.value("text", "") : ": " + text(p.value("text", "")));
  }
  if (k == "llm.error") {
    std::string s = "attempt " + std::to_string(p.value("attempt", 0)) + " " + p.value("code", "") +
                    ": " + text(p.value("message", ""));
    if (p.contains("retry_in_ms")) s += "; retry in " + FormatDuration(p.value("retry_in_ms", 0));
    if (p.contains("failover")) s += "; failing over (" + p.value("failover", "") + ")";
    return s;
  }
  if (std::string limits = DescribeLimitEvent(k, p); !limits.empty()) return limits;
  if (k.starts_with("conversation.")) return DescribeConversationEvent(k, p, full);
  if (k == "output.rejected") {
    return "attempt " + std::to_string(p.value("attempt", 0)) + ": " + p.value("reason", "");
  }
  if (auto quality = DescribeQualityEvent(k, p, full)) return *quality;
  if (k == "route.decision") {
    const auto& winner = p.value("winner", nlohmann::json());
    std::string s = "rule " + p.value("rule", "") + " → " +
                    (winner.is_object() ? winner.value("id", "") + " " + winner.value("name", "")
                                        : std::string("no framework")) +
                    ", agent " + p.value("agent", "") + "; candidates:";
    for (const auto& c : p.value("candidates", nlohmann::json::array())) {
      char score[32];
      std::snprintf(score, sizeof score, "%.2f", c.value("score", 0.0));
      s += " " + c.value("id", "") + " " + c.value("name", "") + " (" + score + ")";
    }
    s += "; why: " + p.value("why", "");
    if (full) s += "\n        request: " + p.value("request", "");
    return s;
  }
  if (k == "route.delegation") {
    return p.value("mode", "") + " to " + p.value("agent", "") + " (owner " + p.value("owner", "") +
           ", routed " + p.value("routed", "") + ", rule " + p.value("rule", "") +
           "): " + p.value("why", "");
  }
  if (k == "boundary.crossed") return DescribeCrossing(p);
  if (k == "step.completed" || k == "run.completed") return text(p.value("output", ""));
  if (k == "step.failed" || k == "run.failed") return p.value("error", "");
  return text(p.dump());
}

}  // namespace

int RunsCommand(const InspectArgs& args) {
  std::string path = ResolvedStore(args.store);
  Result<std::unique_ptr<Store>> store = OpenStoreForReading(path);
  if (!store) {
    std::fprintf(stderr, "chorus: %s\n", store.error().message().c_str());
    return kExitUsage;
  }
  Result<std::vector<RunRecord>> runs = (*store)->ListRuns(args.limit);
  if (!runs) {
    std::fprintf(stderr, "chorus: %s\n", runs.error().message().c_str());
    return kExitRunFailed;
  }
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const RunRecord& r : *runs) out.push_back(RunJson(r));
    std::printf("%s\n", out.dump().c_str());
    return kExitOk;
  }
  if (runs->empty()) {
    std::printf("no runs in %s\n", path.c_str());
    return kExitOk;
  }
  std::printf("%-26s  %-20s  %-11s  %-19s  %10s  %10s\n", "RUN", "TEAM", "STATUS", "STARTED",
              "TOKENS", "COST");
  std::string interrupted;
  for (const RunRecord& r : *runs) {
    if (EffectiveRunStatus(r) == RunStatus::kInterrupted && interrupted.empty()) {
      interrupted = r.run_id;
    }
    std::printf(
        "%-26s  %-20s  %-11s  %-19s  %10lld  %10s\n", r.run_id.c_str(),
        Truncate(r.team, 20).c_str(), std::string(RunStatusName(EffectiveRunStatus(r))).c_str(),
        FormatTime(r.started_ms).c_str(), static_cast<long long>(r.input_tokens + r.output_tokens),
        FormatCost(r.cost_usd).c_str());
  }
  if (!interrupted.empty()) {
    std::printf(
        "\ninterrupted runs keep every recorded step; continue one with: chorus resume %s "
        "--store %s\n",
        interrupted.c_str(), path.c_str());
  }
  return kExitOk;
}

int ShowCommand(const InspectArgs& args) {
  std::string path = ResolvedStore(args.store);
  Result<std::unique_ptr<Store>> store = OpenStoreForReading(path);
  if (!store) {
    std::fprintf(stderr, "chorus: %s\n", store.error().message().c_str());
    return kExitUsage;
  }
  Result<RunRecord> run = (*store)->FindRun(args.run);
  if (!run) {
    std::fprintf(stderr, "chorus: %s\n", run.error().message().c_str());
    return kExitUsage;
  }
  run->status = EffectiveRunStatus(*run);
  Result<std::vector<Event>> events = (*store)->LoadEvents(run->run_id);
  if (!events) {
    std::fprintf(stderr, "chorus: %s\n", events.error().message().c_str());
    return kExitRunFailed;
  }
  RunReport report = ReportFromEvents(*run, *events);
  // Requests name the contents they repeat; the timeline shows them whole.
  NamedContents contents;
  if (args.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const Event& e : *events) {
      auto payload = nlohmann::json::parse(e.payload, nullptr, false);
      contents.Apply(e.kind, payload);
      list.push_back({{"seq", e.seq},
                      {"ts_ms", e.ts_ms},
                      {"kind", e.kind},
                      {"step", e.step},
                      {"agent", e.agent},
                      {"payload", payload.is_discarded() ? nlohmann::json(e.payload) : payload}});
    }
    nlohmann::json out = {
        {"run", RunJson(*run)}, {"report", ReportToJson(report)}, {"events", std::move(list)}};
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  int64_t end = run->finished_ms ? run->finished_ms
                                 : (events->empty() ? run->started_ms : events->back().ts_ms);
  std::printf("run %s · team %s · %s · started %s · %s · %lld in / %lld out tokens · %s\n",
              run->run_id.c_str(), run->team.c_str(),
              std::string(RunStatusName(run->status)).c_str(), FormatTime(run->started_ms).c_str(),
              FormatDuration(end - run->started_ms).c_str(),
              static_cast<long long>(report.usage.input_tokens),
              static_cast<long long>(report.usage.output_tokens),
              FormatCost(report.usage.cost_usd).c_str());
  for (const Event& e : *events) {
    auto payload = nlohmann::json::parse(e.payload, nullptr, false);
    if (payload.is_discarded()) payload = nlohmann::json::object();
    contents.Apply(e.kind, payload);
    std::string who = e.step.empty() ? "" : e.step + (e.agent.empty() ? "" : " [" + e.agent + "]");
    std::printf("%+9.3fs  %-16s %-24s %s\n", (e.ts_ms - run->started_ms) / 1000.0, e.kind.c_str(),
                who.c_str(), Describe(e, payload, args.full).c_str());
  }
  if (run->status == RunStatus::kInterrupted) {
    std::printf(
        "\nthis run was interrupted (its process is gone); its events above are intact\n"
        "continue it with: chorus resume %s --store %s\n",
        run->run_id.c_str(), path.c_str());
  }
  return kExitOk;
}

}  // namespace chorus::cli
