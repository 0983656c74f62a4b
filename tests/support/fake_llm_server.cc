#include "support/fake_llm_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <utility>

namespace chorus::test {
namespace {

constexpr std::chrono::milliseconds kStopGrace{2000};
constexpr int kControlTimeoutSeconds = 10;

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

tl::expected<FakeLlmServer, std::string> FakeLlmServer::Start(Options options) {
  std::string dir_template =
      (std::filesystem::temp_directory_path() / "fake_llm_server.XXXXXX").string();
  if (::mkdtemp(dir_template.data()) == nullptr) {
    return tl::unexpected("mkdtemp " + dir_template + ": " + std::strerror(errno));
  }
  const std::string temp_dir = dir_template;
  auto remove_temp = [&] {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir, ignored);
  };

  ProcessOptions process_options;
  process_options.argv = {FAKE_LLM_SERVER_PATH, "--host", "127.0.0.1", "--port", "0"};
  auto& argv = process_options.argv;
  if (!options.script.is_null()) {
    const std::string script_path = temp_dir + "/script.json";
    std::ofstream(script_path) << options.script.dump(2);
    argv.insert(argv.end(), {"--script", script_path});
  }
  if (options.latency_ms > 0)
    argv.insert(argv.end(), {"--latency-ms", std::to_string(options.latency_ms)});
  if (!options.api_key.empty()) argv.insert(argv.end(), {"--api-key", options.api_key});
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());

  Process process(process_options);
  if (auto started = process.Start(); !started) {
    remove_temp();
    return tl::unexpected("fake_llm_server: " + started.error());
  }
  constexpr std::string_view kBanner = "listening on 127.0.0.1:";
  if (!process.WaitForOutput("\n", options.startup_timeout)) {
    process.Kill(SIGKILL);
    auto status = process.Wait();
    remove_temp();
    return tl::unexpected("fake_llm_server did not report \"" + std::string(kBanner) +
                          "<port>\" within " + std::to_string(options.startup_timeout.count()) +
                          " ms; " + status->Describe() + "; stderr: " + status->stderr_text);
  }
  const std::string banner = process.Stdout();
  if (banner.rfind(kBanner, 0) != 0) {
    process.Kill(SIGKILL);
    auto status = process.Wait();
    remove_temp();
    return tl::unexpected("fake_llm_server: expected \"" + std::string(kBanner) +
                          "<port>\", found \"" + banner + "\"; stderr: " + status->stderr_text);
  }
  const int port = std::atoi(banner.c_str() + kBanner.size());
  return FakeLlmServer(std::move(process), port, temp_dir);
}

FakeLlmServer::FakeLlmServer(FakeLlmServer&& other) noexcept
    : process_(std::move(other.process_)),
      port_(std::exchange(other.port_, 0)),
      temp_dir_(std::exchange(other.temp_dir_, std::string())) {}

FakeLlmServer& FakeLlmServer::operator=(FakeLlmServer&& other) noexcept {
  if (this != &other) {
    FakeLlmServer discarded(std::move(*this));  // stops what this held
    process_ = std::move(other.process_);
    port_ = std::exchange(other.port_, 0);
    temp_dir_ = std::exchange(other.temp_dir_, std::string());
  }
  return *this;
}

FakeLlmServer::~FakeLlmServer() {
  if (process_.Pid() > 0) Stop();
  if (!temp_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir_, ignored);
  }
}

ExitStatus FakeLlmServer::Stop() {
  if (auto status = process_.Wait(std::chrono::milliseconds(0))) return *status;
  process_.Kill(SIGTERM);
  if (auto status = process_.Wait(kStopGrace)) return *status;
  process_.Kill(SIGKILL);
  return *process_.Wait();
}

std::string FakeLlmServer::openai_base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/v1";
}

std::string FakeLlmServer::anthropic_base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::string FakeLlmServer::Call(const std::string& method, const std::string& path,
                                const std::string& body) const {
  const std::string where =
      method + " " + path + " on the fake LLM server at 127.0.0.1:" + std::to_string(port_);
  auto fail = [&](const std::string& why) { return std::runtime_error(where + ": " + why); };
  Socket socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (socket.fd() < 0) throw fail(std::string("socket: ") + std::strerror(errno));
  timeval timeout{kControlTimeoutSeconds, 0};
  ::setsockopt(socket.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(socket.fd(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port_));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(socket.fd(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    throw fail(std::string("connect: ") + std::strerror(errno));
  }
  std::string request = method + " " + path +
                        " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
                        "\r\nConnection: close\r\nContent-Type: application/json\r\n"
                        "Content-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(socket.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw fail(std::string("send: ") + std::strerror(errno));
    sent += static_cast<size_t>(n);
  }
  std::string response;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::recv(socket.fd(), buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail(std::string("recv: ") + std::strerror(errno));
    if (n == 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  // The server answers control calls with Content-Length and then closes: EOF ends the body.
  const size_t header_end = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.1 ", 0) != 0 || header_end == std::string::npos) {
    throw fail("expected an HTTP/1.1 response, found \"" + response.substr(0, 200) + "\"");
  }
  const int status = std::atoi(response.c_str() + 9);
  std::string response_body = response.substr(header_end + 4);
  if (status < 200 || status > 299) {
    throw fail("expected HTTP 2xx, found " + std::to_string(status) + ": " + response_body);
  }
  return response_body;
}

nlohmann::json FakeLlmServer::Requests() const {
  return nlohmann::json::parse(Call("GET", "/_requests", ""));
}

void FakeLlmServer::SetScript(const nlohmann::json& script) {
  Call("POST", "/_script", script.dump());
}

void FakeLlmServer::Reset() { Call("POST", "/_reset", ""); }

nlohmann::json FakeLlmServer::Stats() const {
  return nlohmann::json::parse(Call("GET", "/_stats", ""));
}

bool FakeLlmServer::WaitForRequests(size_t count, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (Stats()["requests"].get<size_t>() >= count) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace chorus::test
