// The offline model's answer to a handoff brief request (a brief whose expected output is the
// HandoffBrief schema): an extractive brief built from the turns the request carries — the
// opening line of each accepted answer as a decision, where the work stands, what comes next,
// and every line marked FACT: copied verbatim. Pure and thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace chorus::offline {

// Whether `brief` (DelegationBrief JSON) asks for a handoff brief.
bool IsHandoffRequest(const nlohmann::json& brief);

// The handoff brief as JSON text; valid against the HandoffBrief schema.
std::string AnswerHandoff(const nlohmann::json& brief);

}  // namespace chorus::offline
