// DelegationBrief: the typed message one part of a team sends to an agent — objective,
// context, constraints and the expected output — and the check that a result satisfies it.
//
// Briefs are plain values; all functions here are pure and thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chorus/model_client.h"
#include "chorus/status.h"

namespace chorus {

enum class OutputFormat { kText, kMarkdown, kJson };

struct ExpectedOutput {
  OutputFormat format = OutputFormat::kText;
  std::vector<std::string> sections;  // markdown: headings that must be present, in any order
  nlohmann::json schema;              // json: a JSON Schema (draft 2020-12 subset); null: any
  std::string description;            // free text shown to the agent
};

struct DelegationBrief {
  std::string id;  // the step path it was issued for, e.g. "draft" or "reviews[2]"
  std::string objective;
  std::vector<std::string> context;  // already resolved: no ${...} left
  std::vector<std::string> constraints;
  ExpectedOutput output;
  std::string acceptance;  // how the result will be judged, free text

  nlohmann::json ToJson() const;
  // ToJson().dump(), written directly (how a run records each brief it dispatches).
  std::string ToJsonText() const;
  static Result<DelegationBrief> FromJson(const nlohmann::json& j);
};

// Rejects a brief that cannot be dispatched: no objective, a schema that is not an object...
Status ValidateBrief(const DelegationBrief& brief);

// The messages an agent with `role` receives for `brief`. `feedback` (may be empty) lists why
// earlier attempts were rejected, so the agent can correct itself.
std::vector<ChatMessage> RenderBrief(const std::string& role, const DelegationBrief& brief,
                                     const std::vector<std::string>& feedback);

// What a result becomes once it satisfied its expected output.
struct AcceptedOutput {
  std::string text;     // the output as the next steps see it (JSON: compact, fences removed)
  nlohmann::json json;  // json format: the parsed value; markdown: {section: body}; text: null
};

// Checks `text` against `expected`. On failure the Status message says precisely what is
// missing or wrong ("missing section 'Risks'", "$.items[2].score: expected number, found
// string"), in words fit to be given back to the agent.
Result<AcceptedOutput> CheckOutput(const ExpectedOutput& expected, const std::string& text);

// Validates `value` against a JSON Schema subset (type, properties, required,
// additionalProperties, items, enum, const, minimum/maximum, minLength/maxLength,
// minItems/maxItems, pattern, anyOf/oneOf/allOf). Returns every violation as "$.path: reason".
std::vector<std::string> ValidateJsonSchema(const nlohmann::json& schema,
                                            const nlohmann::json& value);

}  // namespace chorus
