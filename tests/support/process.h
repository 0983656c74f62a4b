// Process: a child process for tests — the `chorus` binary, the fake LLM server, any tool.
//
// Start() spawns it asynchronously; Run() spawns and waits with a timeout. The child's stdout
// and stderr are captured into strings (drained by a background thread, so a chatty child never
// blocks on a full pipe) or redirected to files; stdin gets the given text, else /dev/null.
// The destructor SIGKILLs a still-running child and reaps it, so a failing test leaks nothing.
// The child also gets SIGKILL if the thread that started it exits (PR_SET_PDEATHSIG), so start
// processes from the test's own thread, not from a short-lived helper thread.
//
// Thread-safety: one Process is used by one thread at a time, except that Stdout() / Stderr() /
// WaitForOutput() may be called while the drain thread runs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tl/expected.hpp>
#include <vector>

namespace chorus::test {

struct ProcessOptions {
  std::vector<std::string> argv{};           // argv[0]: a path, or a name looked up in PATH
  std::map<std::string, std::string> env{};  // set on top of the parent's environment
  std::vector<std::string> unset_env{};      // removed from the inherited environment
  std::string working_dir{};                 // "": the parent's
  std::optional<std::string> stdin_text{};   // nullopt: /dev/null
  std::string stdout_path{};                 // non-empty: stdout goes to this file (truncated)
  std::string stderr_path{};                 // non-empty: stderr goes to this file (truncated)
};

struct ExitStatus {
  bool exited = false;  // exited normally; exit_code is valid
  int exit_code = -1;
  int signal = 0;           // the terminating signal, when !exited
  bool timed_out = false;   // Run() gave up and killed the child
  std::string stdout_text;  // captured output (empty when redirected to a file)
  std::string stderr_text;

  bool ok() const { return exited && exit_code == 0; }
  // "exit 3", "signal 9 (Killed)", "timed out after kill"
  std::string Describe() const;
};

class Process {
 public:
  using Duration = std::chrono::milliseconds;

  explicit Process(ProcessOptions options);
  ~Process();
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Spawns the child. Fails, with the reason, when it cannot be started (no such program,
  // not executable, bad working directory, unopenable output file) or was already started.
  tl::expected<void, std::string> Start();

  // Start, then wait up to `timeout`; on timeout SIGKILLs the child and sets timed_out.
  tl::expected<ExitStatus, std::string> Run(Duration timeout);

  pid_t Pid() const { return pid_; }
  bool Running();
  // Sends `signal` to the child, if it is still running (not yet reaped).
  void Kill(int signal = SIGKILL);
  // Waits for the child to exit; nullopt when `timeout` passes first. Once it has exited, also
  // waits for the captured output to reach EOF and returns it in the status.
  std::optional<ExitStatus> Wait(Duration timeout = Duration::max());

  // Output captured so far; safe to call while the child runs.
  std::string Stdout() const;
  std::string Stderr() const;
  // Blocks until captured stdout (or stderr) contains `text`; false on timeout or EOF first.
  bool WaitForOutput(std::string_view text, Duration timeout, bool from_stderr = false) const;

 private:
  struct Capture;  // pipes, the drain thread and the captured text

  void Reap(int wait_status);
  void JoinDrain();

  ProcessOptions options_;
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
  std::unique_ptr<Capture> capture_;
};

}  // namespace chorus::test
