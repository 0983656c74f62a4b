// Helpers shared by the benchmark programs: child processes measured with wait4 (wall time,
// user+system CPU, peak RSS), medians, and result files. Benchmarks only; not part of chorus.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct Measurement {
  double wall_s = 0;
  double cpu_s = 0;           // user + system of the child
  double max_rss_mb = 0;      // peak resident set of the child
  double sampled_rss_mb = 0;  // resident set at `sample_rss_at_s`; 0: not sampled or exited
  int exit_code = -1;
};

// Runs argv to completion with stdout/stderr sent to `log_path` (or /dev/null when empty).
// With `sample_rss_at_s` > 0, also reads the child's resident set that long after its start.
Measurement RunMeasured(const std::vector<std::string>& argv, const std::string& log_path = "",
                        double sample_rss_at_s = 0);

// A background server process: started, its "listening on HOST:PORT" line read, killed by PID.
class ServerProcess {
 public:
  explicit ServerProcess(const std::vector<std::string>& argv);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  int port() const { return port_; }
  // User + system CPU the server has used so far (from /proc); -1 when it cannot be read.
  double CpuSeconds() const;

 private:
  int pid_ = -1;
  int port_ = 0;
};

// Raises the soft open-file limit to the hard limit (children inherit it).
void RaiseFileLimit();

double Median(std::vector<double> values);
std::string MakeTempDir(const std::string& prefix);
void WriteFile(const std::string& path, const std::string& text);
// The directory holding this program (benchmarks find chorus and the fake server beside it).
std::string ExecutableDir();

}  // namespace bench
