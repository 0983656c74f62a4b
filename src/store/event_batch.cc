#include "store/event_batch.h"

#include <cstring>

namespace chorus::sqlite {
namespace {

constexpr size_t kMaxVarintBytes = 10;

// Writes `value` at `out` (room for kMaxVarintBytes); returns the bytes written.
size_t PutVarint(char* out, uint64_t value) {
  size_t n = 0;
  while (value >= 0x80) {
    out[n++] = static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out[n++] = static_cast<char>(value);
  return n;
}

size_t PutBytes(char* out, std::string_view bytes) {
  size_t n = PutVarint(out, bytes.size());
  std::memcpy(out + n, bytes.data(), bytes.size());
  return n + bytes.size();
}

// Reads what AppendToBatch wrote, refusing to run past the end of the body.
class BatchReader {
 public:
  explicit BatchReader(std::string_view body) : body_(body) {}

  bool Varint(uint64_t* value) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ >= body_.size()) return false;
      const auto byte = static_cast<uint8_t>(body_[at_++]);
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *value = result;
        return true;
      }
    }
    return false;
  }

  bool Bytes(std::string* out) {
    uint64_t size = 0;
    if (!Varint(&size) || size > body_.size() - at_) return false;
    out->assign(body_.substr(at_, size));
    at_ += size;
    return true;
  }

  bool done() const { return at_ == body_.size(); }
  size_t offset() const { return at_; }

 private:
  std::string_view body_;
  size_t at_ = 0;
};

// Wall times are signed; zigzag keeps small magnitudes of either sign short.
uint64_t ZigZag(int64_t value) {
  return (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
}
int64_t UnZigZag(uint64_t value) {
  return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1);
}

}  // namespace

void AppendToBatch(std::string& body, const Event& event) {
  // The event's head (time, names, the payload's length) is written in place, into room made
  // once for its longest form, and the payload appended after it: two steps, not the nine
  // appends a field at a time that were a fifth of the event log's instructions.
  const size_t start = body.size();
  body.resize(start + event.kind.size() + event.step.size() + event.agent.size() +
              5 * kMaxVarintBytes);
  char* head = body.data() + start;
  size_t n = PutVarint(head, ZigZag(event.ts_ms));
  n += PutBytes(head + n, event.kind);
  n += PutBytes(head + n, event.step);
  n += PutBytes(head + n, event.agent);
  n += PutVarint(head + n, event.payload.size());
  body.resize(start + n);
  body.append(event.payload);
}

Status DecodeBatch(std::string_view body, const std::string& run_id, int64_t first_seq,
                   int64_t last_seq, std::string_view where, std::vector<Event>* out) {
  auto damaged = [&](const std::string& what) {
    return Status::DataLoss("load events of run " + run_id + " from " + std::string(where) +
                            ": the row of events " + std::to_string(first_seq) + ".." +
                            std::to_string(last_seq) + " is damaged: " + what);
  };
  BatchReader reader(body);
  for (int64_t seq = first_seq; seq <= last_seq; ++seq) {
    Event& event = out->emplace_back();
    event.run_id = run_id;
    event.seq = seq;
    uint64_t ts = 0;
    if (!reader.Varint(&ts) || !reader.Bytes(&event.kind) || !reader.Bytes(&event.step) ||
        !reader.Bytes(&event.agent) || !reader.Bytes(&event.payload)) {
      out->pop_back();
      return damaged("event " + std::to_string(seq) + " is cut short at byte " +
                     std::to_string(reader.offset()) + " of " + std::to_string(body.size()));
    }
    event.ts_ms = UnZigZag(ts);
  }
  if (!reader.done()) {
    return damaged(std::to_string(body.size() - reader.offset()) + " bytes follow its last event");
  }
  return Status::Ok();
}

}  // namespace chorus::sqlite
