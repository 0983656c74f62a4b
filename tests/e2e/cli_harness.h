// Helpers for end-to-end tests of the `chorus` binary: a scratch directory, team files
// written into it, and `chorus` runs with their exit status, stdout and stderr.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/process.h"

namespace chorus::e2e {

class Scratch {
 public:
  Scratch() {
    std::string pattern = (std::filesystem::temp_directory_path() / "chorus-e2e-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
  }
  ~Scratch() { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) const {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// Runs `chorus ARGS...` with no API keys in the environment (unless given in `env`).
inline test::ExitStatus Chorus(const std::vector<std::string>& args,
                               std::map<std::string, std::string> env = {},
                               int timeout_ms = 60000) {
  test::ProcessOptions o;
  o.argv = {CHORUS_CLI_PATH};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = std::move(env);
  for (const char* key : {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "CHORUS_STORE"}) {
    if (!o.env.count(key)) o.unset_env.push_back(key);
  }
  test::Process p(std::move(o));
  auto status = p.Run(std::chrono::milliseconds(timeout_ms));
  if (!status) ADD_FAILURE() << "cannot run chorus: " << status.error();
  return status ? *status : test::ExitStatus{};
}

// The JSON object `chorus ... --json` printed.
inline nlohmann::json JsonOut(const test::ExitStatus& s) {
  auto j = nlohmann::json::parse(s.stdout_text, nullptr, false);
  if (j.is_discarded()) ADD_FAILURE() << "stdout is not JSON:\n" << s.stdout_text << s.stderr_text;
  return j;
}

}  // namespace chorus::e2e
