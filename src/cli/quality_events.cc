#include "cli/quality_events.h"

#include <sstream>

#include "cli/cli_common.h"

namespace chorus::cli {
namespace {

std::string Number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// "passed: accept" / "failed (sections: missing section 'Moves'; judge reviewer: ...): retry".
std::string DescribeGate(const nlohmann::json& p, bool full) {
  std::string out = "attempt " + std::to_string(p.value("attempt", 0)) + " " +
                    (p.value("passed", false) ? "passed" : "failed");
  if (p.contains("score")) out += ", score " + Number(p.value("score", 0.0));
  std::string failed;
  for (const auto& c : p.value("checks", nlohmann::json::array())) {
    if (c.value("passed", false) || c.value("skipped", false)) continue;
    failed += (failed.empty() ? "" : "; ") + c.value("check", std::string()) + ": " +
              c.value("detail", std::string());
  }
  if (!failed.empty()) out += " (" + (full ? failed : Truncate(failed, 160)) + ")";
  for (const auto& c : p.value("checks", nlohmann::json::array())) {
    if (c.value("skipped", false) && c.value("passed", false)) {
      out += "; " + c.value("check", std::string()) + " not scored (offline model)";
    }
  }
  std::string action = p.value("action", "");
  if (action == "escalate") action += " to " + p.value("escalate_to", "");
  return out + (action.empty() ? "" : " → " + action);
}

std::string DescribeVerdict(const nlohmann::json& p, bool full) {
  std::string verdict = p.value("verdict", "");
  std::string out = verdict + " (" + std::to_string(p.value("agreeing", 0)) + " of " +
                    std::to_string(p.value("asked", 0)) + " asked agree, quorum " +
                    std::to_string(p.value("quorum", 0)) + ", compare " + p.value("compare", "") +
                    ")";
  if (verdict == "validated") {
    std::string answer = p.value("answer", "");
    out += ": " + (full ? answer : Truncate(answer, 80));
  }
  for (const auto& v : p.value("votes", nlohmann::json::array())) {
    std::string answer = v.value("answer", "");
    out += "\n        vote " + v.value("agent", "") + " [group " +
           std::to_string(v.value("group", 0)) + "]: " + (full ? answer : Truncate(answer, 80));
  }
  if (p.contains("note")) out += "\n        note: " + p.value("note", "");
  return out;
}

}  // namespace

std::optional<std::string> DescribeQualityEvent(const std::string& kind, const nlohmann::json& p,
                                                bool full) {
  if (kind == "gate.verdict") return DescribeGate(p, full);
  if (kind == "witness.vote") {
    std::string answer = p.value("answer", "");
    std::string out = "witness " + std::to_string(p.value("witness", 0)) + " (" +
                      p.value("agent", "") + "): " + (full ? answer : Truncate(answer, 100));
    if (p.contains("problem")) out += " — " + p.value("problem", "");
    return out;
  }
  if (kind == "witness.compare") {
    return "asking judge " + p.value("judge", "") + " to compare " +
           std::to_string(p.value("votes", 0)) + " answers (" +
           std::to_string(p.value("distinct_answers", 0)) + " distinct as text)";
  }
  if (kind == "witness.extended") {
    return "asking " + std::to_string(p.value("adding", 0)) + " more witness(es) " +
           p.value("agents", nlohmann::json::array()).dump() + ": " + p.value("reason", "");
  }
  if (kind == "witness.verdict") return DescribeVerdict(p, full);
  return std::nullopt;
}

}  // namespace chorus::cli
