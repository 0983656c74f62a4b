#include "support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

extern char** environ;

namespace chorus::test {
namespace {

using Clock = std::chrono::steady_clock;

// How long, after the child exits, to wait for its pipes to reach EOF: a grandchild that
// inherited them may keep them open, and must not hang the test.
constexpr std::chrono::milliseconds kDrainGrace{2000};

std::string ErrnoText(const std::string& what, int error) {
  return what + ": " + std::strerror(error);
}

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

bool IsExecutable(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

tl::expected<std::string, std::string> ResolveProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t begin = 0;
  while (begin <= dirs.size()) {
    size_t end = std::min(dirs.find(':', begin), dirs.size());
    std::string dir = dirs.substr(begin, end - begin);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (IsExecutable(candidate)) return candidate;
    begin = end + 1;
  }
  return tl::unexpected("cannot start \"" + name + "\": not found in PATH (" + dirs + ")");
}

std::vector<std::string> BuildEnvironment(const ProcessOptions& options) {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view item(*entry);
    std::string key(item.substr(0, item.find('=')));
    bool dropped = options.env.count(key) > 0 ||
                   std::find(options.unset_env.begin(), options.unset_env.end(), key) !=
                       options.unset_env.end();
    if (!dropped) env.emplace_back(item);
  }
  for (const auto& [key, value] : options.env) env.push_back(key + "=" + value);
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// In the forked child: only async-signal-safe calls until exec.
[[noreturn]] void ExecChild(const char* program, char** argv, char** envp, const char* dir,
                            int in_fd, int out_fd, int err_fd, int report_fd, pid_t parent) {
  auto fail = [report_fd](int stage) {
    int report[2] = {stage, errno};
    [[maybe_unused]] ssize_t n = ::write(report_fd, report, sizeof(report));
    ::_exit(127);
  };
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  if (::dup2(in_fd, STDIN_FILENO) < 0 || ::dup2(out_fd, STDOUT_FILENO) < 0 ||
      ::dup2(err_fd, STDERR_FILENO) < 0) {
    fail(0);
  }
  if (dir != nullptr && ::chdir(dir) != 0) fail(1);
  ::execve(program, argv, envp);
  fail(2);
  ::_exit(127);
}

}  // namespace

struct Process::Capture {
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  int wake_read = -1;
  int wake_write = -1;
  std::string stdin_text;
  size_t stdin_written = 0;

  mutable std::mutex mu;
  mutable std::condition_variable changed;
  std::string out;
  std::string err;
  bool done = false;  // both output pipes reached EOF (or were never captured)
  std::thread thread;

  ~Capture() {
    for (int* fd : {&stdin_fd, &stdout_fd, &stderr_fd, &wake_read, &wake_write}) CloseFd(*fd);
  }

  void Drain() {
    // A child that closes stdin early must yield EPIPE here, not kill the test with SIGPIPE.
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
    char buffer[65536];
    while (stdout_fd >= 0 || stderr_fd >= 0 || stdin_fd >= 0) {
      pollfd fds[4];
      int count = 0;
      auto add = [&](int fd, short events) {
        if (fd >= 0) fds[count++] = {fd, events, 0};
      };
      add(stdout_fd, POLLIN);
      add(stderr_fd, POLLIN);
      add(stdin_fd, POLLOUT);
      add(wake_read, POLLIN);
      if (::poll(fds, static_cast<nfds_t>(count), -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < count; ++i) {
        if (fds[i].revents == 0) continue;
        if (fds[i].fd == wake_read) {
          CloseFd(stdin_fd);
          CloseFd(stdout_fd);
          CloseFd(stderr_fd);
          break;
        }
        if (fds[i].fd == stdin_fd) {
          ssize_t n = ::write(stdin_fd, stdin_text.data() + stdin_written,
                              stdin_text.size() - stdin_written);
          if (n > 0) stdin_written += static_cast<size_t>(n);
          if ((n < 0 && errno != EAGAIN && errno != EINTR) || stdin_written == stdin_text.size()) {
            CloseFd(stdin_fd);
          }
          continue;
        }
        const bool is_out = fds[i].fd == stdout_fd;
        ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
        if (n > 0) {
          std::lock_guard lock(mu);
          (is_out ? out : err).append(buffer, static_cast<size_t>(n));
          changed.notify_all();
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          CloseFd(is_out ? stdout_fd : stderr_fd);
        }
      }
    }
    std::lock_guard lock(mu);
    done = true;
    changed.notify_all();
  }
};

std::string ExitStatus::Describe() const {
  std::string text = exited ? "exit " + std::to_string(exit_code)
                            : "signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  if (timed_out) text += ", killed after the timeout";
  return text;
}

Process::Process(ProcessOptions options) : options_(std::move(options)) {}

Process::~Process() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int wait_status = 0;
    while (::waitpid(pid_, &wait_status, 0) < 0 && errno == EINTR) {
    }
    Reap(wait_status);
  }
  JoinDrain();
}

Process::Process(Process&& other) noexcept
    : options_(std::move(other.options_)),
      pid_(std::exchange(other.pid_, -1)),
      status_(std::move(other.status_)),
      capture_(std::move(other.capture_)) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    Process discarded(std::move(*this));  // kills and reaps what this held
    options_ = std::move(other.options_);
    pid_ = std::exchange(other.pid_, -1);
    status_ = std::move(other.status_);
    capture_ = std::move(other.capture_);
  }
  return *this;
}

tl::expected<void, std::string> Process::Start() {
  if (pid_ > 0) return tl::unexpected(std::string("Process::Start: already started"));
  if (options_.argv.empty()) return tl::unexpected(std::string("Process::Start: argv is empty"));
  auto program = ResolveProgram(options_.argv.front());
  if (!program) return tl::unexpected(program.error());

  auto capture = std::make_unique<Capture>();
  int child_in = -1, child_out = -1, child_err = -1;
  auto close_child_ends = [&] {
    CloseFd(child_in);
    CloseFd(child_out);
    CloseFd(child_err);
  };
  auto open_output = [&](const std::string& path, int& child_fd,
                         int& parent_fd) -> tl::expected<void, std::string> {
    if (!path.empty()) {
      child_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (child_fd < 0)
        return tl::unexpected(ErrnoText("cannot open " + path + " for output", errno));
      return {};
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return tl::unexpected(ErrnoText("pipe", errno));
    parent_fd = fds[0];
    child_fd = fds[1];
    ::fcntl(parent_fd, F_SETFL, O_NONBLOCK);
    return {};
  };
  if (auto ok = open_output(options_.stdout_path, child_out, capture->stdout_fd); !ok) {
    close_child_ends();
    return ok;
  }
  if (auto ok = open_output(options_.stderr_path, child_err, capture->stderr_fd); !ok) {
    close_child_ends();
    return ok;
  }
  if (options_.stdin_text) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      close_child_ends();
      return tl::unexpected(ErrnoText("pipe", errno));
    }
    child_in = fds[0];
    capture->stdin_fd = fds[1];
    ::fcntl(capture->stdin_fd, F_SETFL, O_NONBLOCK);
    capture->stdin_text = *options_.stdin_text;
  } else {
    child_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  int report[2];
  int wake[2];
  if (::pipe2(report, O_CLOEXEC) != 0 || ::pipe2(wake, O_CLOEXEC) != 0) {
    close_child_ends();
    return tl::unexpected(ErrnoText("pipe", errno));
  }
  capture->wake_read = wake[0];
  capture->wake_write = wake[1];

  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> argv_strings = options_.argv;
  std::vector<std::string> env_strings = BuildEnvironment(options_);
  std::vector<char*> argv = Pointers(argv_strings);
  std::vector<char*> envp = Pointers(env_strings);
  const char* dir = options_.working_dir.empty() ? nullptr : options_.working_dir.c_str();
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid == 0) {
    ExecChild(program->c_str(), argv.data(), envp.data(), dir, child_in, child_out, child_err,
              report[1], parent);
  }
  const int fork_errno = errno;
  close_child_ends();
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    return tl::unexpected(ErrnoText("fork", fork_errno));
  }
  int failure[2] = {0, 0};
  ssize_t n;
  while ((n = ::read(report[0], failure, sizeof(failure))) < 0 && errno == EINTR) {
  }
  ::close(report[0]);
  if (n > 0) {
    int ignored = 0;
    ::waitpid(pid, &ignored, 0);
    static constexpr const char* kStage[] = {"redirect stdio", "chdir", "exec"};
    std::string what = std::string("cannot start ") + *program + ": " + kStage[failure[0]];
    if (failure[0] == 1) what += " to " + options_.working_dir;
    return tl::unexpected(ErrnoText(what, failure[1]));
  }
  pid_ = pid;
  capture_ = std::move(capture);
  capture_->thread = std::thread([capture = capture_.get()] { capture->Drain(); });
  return {};
}

tl::expected<ExitStatus, std::string> Process::Run(Duration timeout) {
  if (auto started = Start(); !started) return tl::unexpected(started.error());
  if (auto status = Wait(timeout)) return *status;
  Kill(SIGKILL);
  ExitStatus status = *Wait();
  status.timed_out = true;
  status_->timed_out = true;
  return status;
}

void Process::Reap(int wait_status) {
  ExitStatus status;
  status.exited = WIFEXITED(wait_status);
  status.exit_code = status.exited ? WEXITSTATUS(wait_status) : -1;
  status.signal = WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0;
  status_ = std::move(status);
}

bool Process::Running() {
  if (pid_ <= 0 || status_) return false;
  int wait_status = 0;
  if (::waitpid(pid_, &wait_status, WNOHANG) == pid_) {
    Reap(wait_status);
    return false;
  }
  return true;
}

void Process::Kill(int signal) {
  if (pid_ > 0 && !status_) ::kill(pid_, signal);
}

std::optional<ExitStatus> Process::Wait(Duration timeout) {
  if (pid_ <= 0) return std::nullopt;
  const auto deadline =
      timeout == Duration::max() ? Clock::time_point::max() : Clock::now() + timeout;
  auto pause = std::chrono::microseconds(200);
  while (!status_) {
    int wait_status = 0;
    pid_t reaped = ::waitpid(pid_, &wait_status, WNOHANG);
    if (reaped == pid_) {
      Reap(wait_status);
      break;
    }
    if (reaped < 0 && errno != EINTR) return std::nullopt;
    if (Clock::now() >= deadline) return std::nullopt;
    // Polling keeps this free of SIGCHLD handlers, which would clash with other children.
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - Clock::now()));
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
  JoinDrain();
  if (capture_) {
    std::lock_guard lock(capture_->mu);
    status_->stdout_text = capture_->out;
    status_->stderr_text = capture_->err;
  }
  return status_;
}

void Process::JoinDrain() {
  if (!capture_ || !capture_->thread.joinable()) return;
  {
    std::unique_lock lock(capture_->mu);
    capture_->changed.wait_for(lock, kDrainGrace, [&] { return capture_->done; });
  }
  char wake = 1;
  [[maybe_unused]] ssize_t n = ::write(capture_->wake_write, &wake, 1);
  capture_->thread.join();
}

std::string Process::Stdout() const {
  if (!capture_) return {};
  std::lock_guard lock(capture_->mu);
  return capture_->out;
}

std::string Process::Stderr() const {
  if (!capture_) return {};
  std::lock_guard lock(capture_->mu);
  return capture_->err;
}

bool Process::WaitForOutput(std::string_view text, Duration timeout, bool from_stderr) const {
  if (!capture_) return false;
  std::unique_lock lock(capture_->mu);
  const std::string& stream = from_stderr ? capture_->err : capture_->out;
  capture_->changed.wait_for(
      lock, timeout, [&] { return stream.find(text) != std::string::npos || capture_->done; });
  return stream.find(text) != std::string::npos;
}

}  // namespace chorus::test
