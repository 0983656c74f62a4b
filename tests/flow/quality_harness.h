// Runs a team file against the fake LLM server in process: the team's `fast` model points at the
// server over loopback HTTP, the store is a real SQLite file, and the test reads back the
// events the run recorded and the requests the server received.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chorus/run.h"
#include "chorus/store.h"
#include "chorus/team.h"
#include "support/fake_llm_server.h"

namespace chorus::test {

class QualityRun : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "chorus-quality-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    auto store = OpenSqliteStore(dir_ + "/s.db");
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Starts the server with `script` and runs `body` (agents and flow; the `fast` model is
  // declared here) on it. `offline` runs every model on the built-in offline model instead.
  RunReport Run(const nlohmann::json& script, const std::string& body, bool offline = false) {
    auto server = FakeLlmServer::Start({.script = script});
    EXPECT_TRUE(server) << server.error();
    if (!server) return {};
    const std::string yaml =
        "name: quality\nmodels:\n  fast: { provider: openai, model: m, "
        "base_url: \"" +
        server->openai_base_url() + "\" }\n" + body;
    Result<Team> team = ParseTeam(yaml, dir_ + "/team.yaml");
    EXPECT_TRUE(team) << team.error().ToString();
    if (!team) return {};
    RunOptions o;
    o.store = store_.get();
    o.seed = 1;
    o.offline = offline;
    o.fallback_to_offline = false;
    auto report = RunTeam(*team, std::move(o));
    EXPECT_TRUE(report) << report.error().ToString();
    requests_ = server->Requests();
    return report ? *report : RunReport{};
  }

  std::vector<nlohmann::json> Events(const RunReport& report, const std::string& kind) {
    std::vector<nlohmann::json> out;
    auto events = store_->LoadEvents(report.run_id);
    EXPECT_TRUE(events);
    if (!events) return out;
    for (const Event& e : *events) {
      if (e.kind != kind) continue;
      nlohmann::json j = nlohmann::json::parse(e.payload);
      j["_step"] = e.step;
      j["_agent"] = e.agent;
      out.push_back(std::move(j));
    }
    return out;
  }

  // What the server received from `agent`, request by request: the messages' text, joined.
  std::vector<std::string> Bodies(const std::string& agent) const {
    std::vector<std::string> out;
    for (const auto& r : requests_) {
      if (r.value("agent", nlohmann::json()) != agent) continue;
      std::string text;
      for (const auto& m : r["body"].value("messages", nlohmann::json::array())) {
        text += m.value("content", "") + "\n";
      }
      out.push_back(std::move(text));
    }
    return out;
  }

  static nlohmann::json Rule(const std::string& agent, const std::vector<std::string>& replies) {
    return {{"match", {{"agent", agent}}}, {"replies", replies}};
  }
  static nlohmann::json Script(const std::vector<nlohmann::json>& rules) {
    return {{"default", {{"reply", "unscripted"}}}, {"rules", rules}};
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  nlohmann::json requests_ = nlohmann::json::array();
};

// A JSON value as the text a model would reply.
inline std::string Reply(const nlohmann::json& value) { return value.dump(); }

}  // namespace chorus::test
