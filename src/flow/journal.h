// RunJournal: what a run's recorded events say about each step path, so that a resumed run
// can skip finished work and continue the rest without asking a model again for an answer
// that is already in the store. Built once from the events; read-only afterwards.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "chorus/model_client.h"
#include "chorus/store.h"
#include "flow/step_output.h"

namespace chorus {

// The recorded history of one step path ("draft", "reviews", "reviews[3]").
struct UnitRecord {
  bool started = false;               // step.started
  bool dispatched = false;            // brief.dispatched
  int requests = 0;                   // highest attempt with an llm.request
  int rejections = 0;                 // output.rejected
  int transient_failures = 0;         // llm.error events that scheduled a retry
  std::vector<std::string> feedback;  // the rejection reasons, in order
  std::optional<StepOutput> completed;
  std::optional<std::string> failed;  // the error of step.failed
  // The latest request has neither an answer nor an error recorded: it may or may not have
  // reached the server, so it is sent again under the same idempotency key.
  bool awaiting_answer = false;
  // The latest answer was recorded but nothing was decided about it yet (the process died
  // between the two): it is checked again rather than requested again.
  std::optional<ChatResponse> undecided_answer;
};

class RunJournal {
 public:
  static RunJournal FromEvents(const std::vector<Event>& events);

  const UnitRecord* Find(const std::string& path) const;
  // The payload of the run's run.started event (inputs, models, options); null if none.
  const nlohmann::json& started() const { return started_; }
  size_t event_count() const { return event_count_; }
  // Keys of the requests whose answers are recorded ("run/path/attempt").
  const std::vector<std::string>& answered_keys() const { return answered_keys_; }

 private:
  std::map<std::string, UnitRecord> units_;
  nlohmann::json started_;
  size_t event_count_ = 0;
  std::vector<std::string> answered_keys_;
};

}  // namespace chorus
