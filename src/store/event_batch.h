// How the SQLite store packs events into rows. A row holds one run's events with consecutive
// seqs; its body is, per event, the wall time and the lengths and bytes of kind, step, agent
// and payload. Payloads are stored byte for byte (the store does not require them to be JSON).
//
// Why rows of events and not a row per event: SQLite spends about a microsecond on every row
// it inserts, whatever its size, and a step records five events. In bench/store_bench.cc's
// layout table, 100,000 events appended 1,000 per transaction cost 0.157 s of CPU as a row
// per event and 0.054 s as rows of events, and load in 0.015 s instead of 0.020 s.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chorus/status.h"
#include "chorus/store.h"

namespace chorus::sqlite {

// Appends `event` (all but its run id and seq, which the row holds) to a batch body.
void AppendToBatch(std::string& body, const Event& event);

// Decodes the body of the row holding seqs first_seq..last_seq of `run_id` and appends its
// events to `out`. A body that does not hold exactly that many whole events is DataLoss, with
// `where` (the file) in the message.
Status DecodeBatch(std::string_view body, const std::string& run_id, int64_t first_seq,
                   int64_t last_seq, std::string_view where, std::vector<Event>* out);

}  // namespace chorus::sqlite
