// fake_llm_server: a real HTTP/1.1 server on loopback that speaks the OpenAI chat completions
// and Anthropic Messages wire formats with scripted answers, latency and injected faults, for
// integration tests, end-to-end tests and benchmarks. See fake_server/script.h for the script
// and fake_server/service.h for the endpoints.
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>

#include "support/fake_server/http_server.h"
#include "support/fake_server/script.h"
#include "support/fake_server/service.h"

namespace {

constexpr std::string_view kUsage =
    "usage: fake_llm_server [--host 127.0.0.1] [--port 0] [--script FILE.json] [--latency-ms N]\n"
    "                       [--chunk-interval-ms N] [--api-key KEY] [--record FILE.jsonl]\n"
    "                       [--port-file FILE] [--keep-requests N]\n";

struct Flags {
  chorus::fake::HttpServerOptions http;
  chorus::fake::ServiceOptions service;
  std::string script_path;
  std::string record_path;
  std::string port_file;
};

bool ParseCount(std::string_view flag, const std::string& text, int64_t max, int64_t& out,
                std::string& error) {
  try {
    size_t used = 0;
    long long value = std::stoll(text, &used);
    if (used == text.size() && value >= 0 && value <= max) {
      out = value;
      return true;
    }
  } catch (const std::exception&) {
  }
  error = std::string(flag) + ": expected an integer 0.." + std::to_string(max) + ", found \"" +
          text + "\"";
  return false;
}

bool ParseFlags(int argc, char** argv, Flags& flags, std::string& error) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    if (arg == "--help" || arg == "-h") {
      error.clear();
      return false;
    }
    if (size_t eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    } else if (arg.rfind("--", 0) == 0 && i + 1 < argc) {
      value = argv[++i];
    } else {
      error = arg.rfind("--", 0) == 0 ? arg + ": expected a value after it, found none"
                                      : "unexpected argument \"" + arg + "\"";
      return false;
    }
    int64_t number = 0;
    if (arg == "--host") {
      flags.http.host = value;
    } else if (arg == "--port") {
      if (!ParseCount(arg, value, 65535, number, error)) return false;
      flags.http.port = static_cast<uint16_t>(number);
    } else if (arg == "--script") {
      flags.script_path = value;
    } else if (arg == "--latency-ms") {
      if (!ParseCount(arg, value, 86400000, flags.service.latency_ms, error)) return false;
    } else if (arg == "--chunk-interval-ms") {
      if (!ParseCount(arg, value, 86400000, flags.service.chunk_interval_ms, error)) return false;
    } else if (arg == "--api-key") {
      flags.service.api_key = value;
    } else if (arg == "--record") {
      flags.record_path = value;
    } else if (arg == "--port-file") {
      flags.port_file = value;
    } else if (arg == "--keep-requests") {
      if (!ParseCount(arg, value, int64_t{1} << 40, number, error)) return false;
      flags.service.keep_requests = static_cast<size_t>(number);
    } else {
      error = "unknown option \"" + arg + "\"";
      return false;
    }
  }
  return true;
}

tl::expected<chorus::fake::Script, std::string> LoadScript(const std::string& path) {
  if (path.empty()) return chorus::fake::DefaultScript();
  std::ifstream in(path);
  if (!in) return tl::unexpected("--script " + path + ": cannot open: " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded())
    return tl::unexpected("--script " + path + ": expected JSON, found a parse error");
  auto script = chorus::fake::ParseScript(json);
  if (!script) return tl::unexpected("--script " + path + ": " + script.error());
  return script;
}

// Written to a temporary name and renamed, so a reader never sees a partial port.
bool WritePortFile(const std::string& path, uint16_t port) {
  const std::string temp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(temp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush()) return false;
  }
  return std::rename(temp.c_str(), path.c_str()) == 0;
}

// Each connection is a descriptor: lift the soft limit to the hard one.
void RaiseDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  std::string error;
  if (!ParseFlags(argc, argv, flags, error)) {
    if (error.empty()) {
      std::cout << kUsage;
      return 0;
    }
    std::cerr << "fake_llm_server: " << error << "\n" << kUsage;
    return 2;
  }
  auto script = LoadScript(flags.script_path);
  if (!script) {
    std::cerr << "fake_llm_server: " << script.error() << "\n";
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  RaiseDescriptorLimit();

  chorus::fake::Service service(flags.service, std::move(*script));
  if (!flags.record_path.empty()) {
    if (auto recording = service.RecordTo(flags.record_path); !recording) {
      std::cerr << "fake_llm_server: " << recording.error() << "\n";
      return 2;
    }
  }
  bool port_file_failed = false;
  auto served = chorus::fake::ServeHttp(flags.http, service, [&](uint16_t port) {
    if (!flags.port_file.empty() && !WritePortFile(flags.port_file, port)) {
      std::cerr << "fake_llm_server: --port-file " << flags.port_file
                << ": cannot write: " << std::strerror(errno) << "\n";
      port_file_failed = true;
      std::raise(SIGTERM);
      return;
    }
    std::cout << "listening on " << flags.http.host << ":" << port << std::endl;
  });
  if (!served) {
    std::cerr << "fake_llm_server: " << served.error() << "\n";
    return 1;
  }
  return port_file_failed ? 1 : 0;
}
