// How `chorus run` and `chorus resume` set up the process heap before a run.
//
// A run allocates most of its memory in its first milliseconds: every agent's state, brief,
// request and events. Each fresh 4 KB page costs a page fault, and on virtual machines whose
// page tables the hypervisor shadows a fault costs tens of microseconds: a 1,000-agent run took
// ~2,800 faults, 0.18 s of CPU and 0.55 s of wall time. Grown once, in one piece the kernel may
// back with 2 MB pages, and kept rather than handed back and faulted in again, the same run
// takes ~1,000 faults, 0.12 s of CPU and 0.51 s (bench/fanout_bench.cc, README).
//
// Only the command line does this: a program that embeds the library owns its heap.
#pragma once

#include <cstddef>

namespace chorus::cli {

struct RunHeap {
  bool prepared = false;
  // The part of the heap the kernel was asked to back with huge pages; 0 when it refused
  // (transparent huge pages compiled out) or when the heap could not grow.
  size_t huge_page_bytes = 0;
};

// Reserves `reserve_bytes` of heap at once (untouched, so not resident), asks for transparent
// huge pages on it, and keeps freed memory in the heap instead of returning it to the kernel
// page by page. Does nothing when the environment sets CHORUS_HUGE_PAGES=0, or outside glibc.
RunHeap PrepareRunHeap(size_t reserve_bytes = size_t{64} << 20);

}  // namespace chorus::cli
