// RunJournal: what a run's recorded events say, read back so that a resumed run can continue
// it. A resumed run executes the flow again from the start, deterministically, and consults
// the journal at every point where the first run met the outside world:
//
//   * a plain step that completed (or failed) is settled from its record at once;
//   * a request whose answer or error is recorded gets that outcome back, never sent again;
//   * a request that was recorded as sent but has no outcome goes out again, under the same
//     idempotency key;
//   * an event the re-execution adds that is already recorded (same kind, step, agent and
//     payload) is not recorded twice.
//
// Everything in between (gates, witnesses, rejections, retries) is decided again from the
// same inputs and answers, so it comes out the same. Built once; read-only afterwards except
// for ConsumeRecorded.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "chorus/model_client.h"
#include "chorus/store.h"
#include "flow/step_output.h"

namespace chorus {

// How a recorded step path ended, when it did.
struct UnitRecord {
  std::optional<StepOutput> completed;
  std::optional<std::string> failed;  // the error of step.failed
};

class RunJournal {
 public:
  // `each`, if given, sees every event with its parsed payload (one parse serves both).
  static RunJournal FromEvents(
      std::vector<Event> events,
      const std::function<void(const Event&, const nlohmann::json&)>& each = nullptr);

  const UnitRecord* Find(const std::string& path) const;
  // The recorded outcome of the request with this idempotency key: its answer or its error.
  const ChatResult* Outcome(const std::string& key) const;
  // Whether a request with this key was recorded (sent, or about to be).
  bool Requested(const std::string& key) const { return requested_.count(key) > 0; }
  // True, once per recorded occurrence, when an identical event is already in the store.
  bool ConsumeRecorded(const Event& event);

  // The payload of the run's run.started event (inputs, models, options); null if none.
  const nlohmann::json& started() const { return started_; }
  size_t event_count() const { return event_count_; }
  // Keys of the requests whose answers are recorded, in record order.
  const std::vector<std::string>& answered_keys() const { return answered_keys_; }
  // Whether the run recorded requests with every message content inline, as chorus did
  // before llm.message events (flow/message_contents.h): it is resumed the same way.
  bool contents_inline() const { return contents_inline_; }

 private:
  std::map<std::string, UnitRecord> units_;
  std::unordered_map<std::string, ChatResult> outcomes_;
  std::set<std::string> requested_;
  std::vector<Event> events_;
  // Signature -> index into events_, one entry per recorded occurrence not yet re-added.
  std::unordered_multimap<uint64_t, size_t> recorded_;
  nlohmann::json started_;
  size_t event_count_ = 0;
  std::vector<std::string> answered_keys_;
  bool contents_inline_ = false;
};

}  // namespace chorus
