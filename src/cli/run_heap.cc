#include "cli/run_heap.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#ifdef __GLIBC__
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace chorus::cli {

RunHeap PrepareRunHeap(size_t reserve_bytes) {
  RunHeap heap;
#ifdef __GLIBC__
  if (const char* v = std::getenv("CHORUS_HUGE_PAGES"); v && std::string_view(v) == "0") {
    return heap;
  }
  // mallopt takes an int, and twice the reserve must fit in one.
  const auto reserve = static_cast<int>(std::min(reserve_bytes, size_t{1} << 28));
  // Allocations up to 32 MB (glibc's ceiling) come from the heap, not from mappings of their
  // own that are faulted in afresh and unmapped on free. The heap grows by `reserve` beyond
  // what each growth needs, and is trimmed only when twice that lies free at its top.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TOP_PAD, reserve);
  mallopt(M_TRIM_THRESHOLD, 2 * reserve);
  const auto start = reinterpret_cast<uintptr_t>(sbrk(0));
  // One allocation larger than the heap's free top makes it grow now, by the reserve; the
  // volatile pointer keeps the compiler from eliding the pair.
  void* volatile probe = std::malloc(size_t{1} << 20);
  std::free(probe);
  const auto end = reinterpret_cast<uintptr_t>(sbrk(0));
  heap.prepared = true;
  constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
  const uintptr_t from = (start + kHugePage - 1) & ~(kHugePage - 1);
  // The growth extends the heap's mapping, which then carries the advice. A heap that later
  // outgrows the reserve gets a new mapping without it: small pages again, nothing worse.
  if (end > from + kHugePage &&
      madvise(reinterpret_cast<void*>(from), end - from, MADV_HUGEPAGE) == 0) {
    heap.huge_page_bytes = end - from;
  }
#else
  (void)reserve_bytes;
#endif
  return heap;
}

}  // namespace chorus::cli
