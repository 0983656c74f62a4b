// The heap `chorus run` prepares: grown once, advised for transparent huge pages, and what is
// allocated afterwards lands in the advised part rather than in mappings of its own.
#include "cli/run_heap.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace chorus::cli {
namespace {

bool TransparentHugePagesAvailable() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(in, modes);
  return !modes.empty() && modes.find("[never]") == std::string::npos;
}

// The VmFlags of the mapping that holds `address`, from /proc/self/smaps ("" if none).
std::string VmFlagsOf(uintptr_t address) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    uintptr_t from = 0, to = 0;
    char dash = 0;
    std::istringstream header(line);
    if (header >> std::hex >> from >> dash >> to && dash == '-') {
      inside = from <= address && address < to;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

// Where the process's heap begins, from /proc/self/maps (0 if it has none).
uintptr_t HeapStart() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("[heap]") == std::string::npos) continue;
    return std::stoull(line.substr(0, line.find('-')), nullptr, 16);
  }
  return 0;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitizedHeap = true;  // the sanitizer's allocator never grows the heap
#else
constexpr bool kSanitizedHeap = false;
#endif

TEST(RunHeap, TheEnvironmentCanTurnItOff) {
  setenv("CHORUS_HUGE_PAGES", "0", 1);
  RunHeap heap = PrepareRunHeap(size_t{8} << 20);
  unsetenv("CHORUS_HUGE_PAGES");
  EXPECT_FALSE(heap.prepared);
  EXPECT_EQ(heap.huge_page_bytes, 0u);
}

TEST(RunHeap, GrowsTheHeapOnceAndAdvisesHugePages) {
  if (kSanitizedHeap) GTEST_SKIP() << "the sanitizer's allocator never grows the heap";
  if (!TransparentHugePagesAvailable()) GTEST_SKIP() << "transparent huge pages are off";
  const auto before = reinterpret_cast<uintptr_t>(sbrk(0));
  RunHeap heap = PrepareRunHeap(size_t{16} << 20);
  const auto after = reinterpret_cast<uintptr_t>(sbrk(0));
  ASSERT_TRUE(heap.prepared);
  EXPECT_GE(after - before, size_t{16} << 20) << "the heap grew by less than the reserve";
  ASSERT_GT(heap.huge_page_bytes, 0u);
  EXPECT_NE(VmFlagsOf(after - 1).find(" hg"), std::string::npos)
      << "the grown heap carries no huge-page advice: " << VmFlagsOf(after - 1);

  // A megabyte in one piece and many small pieces: all of it from the grown heap, none from
  // mappings of its own (glibc maps pieces over 128 KB by default).
  std::unique_ptr<char[]> large(new char[size_t{1} << 20]);
  std::vector<std::unique_ptr<char[]>> small;
  for (int i = 0; i < 256; ++i) small.emplace_back(new char[4096]);
  const auto end = reinterpret_cast<uintptr_t>(sbrk(0));
  const uintptr_t start = HeapStart();
  ASSERT_NE(start, 0u);
  auto in_heap = [&](const char* p) {
    const auto a = reinterpret_cast<uintptr_t>(p);
    return a >= start && a < end;
  };
  EXPECT_TRUE(in_heap(large.get())) << "a 1 MB allocation was mapped on its own";
  for (const auto& p : small) ASSERT_TRUE(in_heap(p.get()));
  EXPECT_EQ(end, after) << "the heap grew again inside its reserve";
}

}  // namespace
}  // namespace chorus::cli
