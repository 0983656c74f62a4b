// Tests of the Process helper that end-to-end tests use to run `chorus` and other children.
#include "support/process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

namespace chorus::test {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

ProcessOptions Shell(const std::string& script) { return {.argv = {"sh", "-c", script}}; }

TEST(Process, RunCapturesStdoutStderrAndExitCode) {
  auto status = Process(Shell("echo out; echo err >&2; exit 3")).Run(milliseconds(5000));
  ASSERT_TRUE(status) << status.error();
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->exit_code, 3);
  EXPECT_FALSE(status->ok());
  EXPECT_EQ(status->stdout_text, "out\n");
  EXPECT_EQ(status->stderr_text, "err\n");
}

TEST(Process, PassesStdinEnvironmentAndWorkingDirectory) {
  const std::string dir = std::filesystem::temp_directory_path().string();
  ProcessOptions options = Shell("cat; printf ' %s %s' \"$CHORUS_TEST_VAR\" \"$(pwd)\"");
  options.stdin_text = std::string(200000, 'x');  // more than a pipe buffer holds
  options.env["CHORUS_TEST_VAR"] = "value";
  options.working_dir = dir;
  auto status = Process(options).Run(milliseconds(5000));
  ASSERT_TRUE(status) << status.error();
  EXPECT_TRUE(status->ok()) << status->Describe();
  EXPECT_EQ(status->stdout_text,
            std::string(200000, 'x') + " value " + std::filesystem::canonical(dir).string());
}

TEST(Process, LargeOutputDoesNotBlockTheChild) {
  auto status = Process(Shell("head -c 1000000 /dev/zero")).Run(milliseconds(5000));
  ASSERT_TRUE(status) << status.error();
  EXPECT_TRUE(status->ok());
  EXPECT_EQ(status->stdout_text.size(), 1000000u);
}

TEST(Process, RedirectsOutputToFiles) {
  const auto path =
      std::filesystem::temp_directory_path() / ("process_out_" + std::to_string(getpid()));
  ProcessOptions options = Shell("echo to-file");
  options.stdout_path = path.string();
  auto status = Process(options).Run(milliseconds(5000));
  ASSERT_TRUE(status) << status.error();
  EXPECT_TRUE(status->stdout_text.empty());
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "to-file");
  std::filesystem::remove(path);
}

TEST(Process, RunKillsAChildThatOutlivesTheTimeout) {
  const auto start = std::chrono::steady_clock::now();
  auto status = Process(Shell("exec sleep 30")).Run(milliseconds(200));
  ASSERT_TRUE(status) << status.error();
  EXPECT_TRUE(status->timed_out);
  EXPECT_EQ(status->signal, SIGKILL);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Process, KillDeliversTheSignalAndWaitReportsIt) {
  Process process(Shell("echo ready; exec sleep 30"));
  ASSERT_TRUE(process.Start());
  EXPECT_GT(process.Pid(), 0);
  ASSERT_TRUE(process.WaitForOutput("ready", milliseconds(5000)));
  EXPECT_TRUE(process.Running());
  EXPECT_FALSE(process.Wait(milliseconds(50)));
  process.Kill(SIGTERM);
  auto status = process.Wait(milliseconds(5000));
  ASSERT_TRUE(status);
  EXPECT_FALSE(status->exited);
  EXPECT_EQ(status->signal, SIGTERM);
  EXPECT_EQ(status->stdout_text, "ready\n");
  EXPECT_FALSE(process.Running());
}

TEST(Process, DestructorKillsAndReapsARunningChild) {
  pid_t pid = 0;
  {
    Process process(Shell("exec sleep 30"));
    ASSERT_TRUE(process.Start());
    pid = process.Pid();
  }
  // Reaped: the pid no longer names our child (kill fails with ESRCH).
  EXPECT_EQ(::kill(pid, 0), -1);
}

TEST(Process, StartFailsForAMissingProgramOrDirectory) {
  auto missing = Process({.argv = {"no-such-program-chorus"}}).Start();
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error(), HasSubstr("not found in PATH"));
  auto not_executable = Process({.argv = {"/etc/hostname"}}).Start();
  ASSERT_FALSE(not_executable);
  EXPECT_THAT(not_executable.error(), HasSubstr("exec"));
  ProcessOptions options = Shell("true");
  options.working_dir = "/no/such/dir";
  auto bad_dir = Process(options).Start();
  ASSERT_FALSE(bad_dir);
  EXPECT_THAT(bad_dir.error(), HasSubstr("chdir to /no/such/dir"));
}

}  // namespace
}  // namespace chorus::test
