// HandoffBrief: what an agent writes for its successor when its conversation is about to
// outgrow the context window — key decisions, current state, next steps, reasoning, open
// questions and the facts to keep word for word. The next generation of the conversation starts
// from it instead of from the whole history.
//
// Plain values; all functions here are pure and thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chorus/status.h"

namespace chorus {

struct HandoffBrief {
  std::vector<std::string> key_decisions;
  std::string current_state;
  std::vector<std::string> next_steps;
  std::string reasoning;
  std::vector<std::string> open_questions;
  std::vector<std::string> verbatim_facts;  // copied word for word into every later generation

  nlohmann::json ToJson() const;
};

// The JSON Schema a handoff answer must satisfy (title "HandoffBrief", which is how the offline
// model recognises a handoff request).
const nlohmann::json& HandoffBriefSchema();

// Parses a model's answer (JSON, possibly fenced) and validates it against the schema. The error
// message lists every violation in words fit to be given back to the model.
Result<HandoffBrief> ParseHandoffBrief(const std::string& text);

// Adds each of `facts` that `brief` does not already carry verbatim; returns how many it added.
int MergeVerbatimFacts(const std::vector<std::string>& facts, HandoffBrief* brief);

// The lines of `text` marked as facts to keep verbatim: a line whose first word (after an
// optional list bullet) is "FACT:". Returned whole, marker included, without surrounding space.
std::vector<std::string> MarkedFacts(const std::string& text);

// Markdown for the start of the next generation's system prompt.
std::string RenderHandoffBrief(const HandoffBrief& brief, int generation);

}  // namespace chorus
