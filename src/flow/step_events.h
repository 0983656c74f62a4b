// The events every step records: its start, each request and answer, its completion; and
// the run's own end. A 10,000-agent map records 50,000 of them, so they are written as JSON
// text (no tree built) and folded into the run's report from the values at hand (no text parsed
// back). Each payload is byte-identical to what printing the equivalent nlohmann::json tree gives,
// so a resumed run recognises events recorded before this way of writing them existed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chorus/model_client.h"
#include "flow/event_log.h"
#include "flow/message_contents.h"
#include "flow/step_output.h"

namespace chorus {

// `item` is the map item's label, or null for a unit that is not a map item.
void RecordStepStarted(EventLog& log, std::string_view path, std::string_view agent,
                       std::string_view kind, const std::string* item);

struct RequestFacts {
  int attempt = 0;
  std::string_view key;       // the idempotency key
  std::string_view endpoint;  // its name in the team file
  std::string_view model;
  const std::vector<ChatMessage>* messages = nullptr;
  // Names the contents that repeat across requests (flow/message_contents.h); null writes
  // every content inline.
  MessageContents* contents = nullptr;
  int64_t queued_ms = -1;  // how long it waited for its endpoint; -1 when it did not
  bool resent = false;     // sent before an interruption and never answered
};
void RecordRequest(EventLog& log, std::string_view path, std::string_view agent,
                   const RequestFacts& r);
// A request's messages as a tree, named as RecordRequest names them, for requests whose
// payload is built as one (a conversation's handoff).
nlohmann::json RequestMessagesJson(EventLog& log, const std::vector<ChatMessage>& messages,
                                   MessageContents* contents);

// `text` is the answer as the run keeps it (valid UTF-8); `warning` says why it differs from
// what the server sent, or is empty.
void RecordResponse(EventLog& log, std::string_view path, std::string_view agent, int attempt,
                    const ChatResponse& response, std::string_view text, std::string_view warning);

void RecordUnitCompleted(EventLog& log, std::string_view path, std::string_view agent,
                         const StepOutput& output, int attempts);
// A map's own completion: its combined output, without "json" (each item's event has it).
void RecordMapCompleted(EventLog& log, std::string_view path, const StepOutput& combined,
                        size_t items);

// The run's end: run.completed with its output, or run.failed with its error. After a wide
// fan-out the output is the whole map's, megabytes that a tree would copy and print again.
void RecordRunEnded(EventLog& log, bool completed, const std::string& text);

}  // namespace chorus
