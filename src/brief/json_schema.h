// Internal helpers around the JSON Schema subset that briefs use (see chorus/brief.h for the
// validator itself). Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "chorus/status.h"

namespace chorus {

// Checks that `schema` is a schema the validator can apply: an object (or boolean) whose
// keywords have the right shapes, known type names, compilable patterns and local "$ref"s
// ("#", "#/$defs/name", any "#/..." JSON Pointer) that resolve. The message names the schema
// location, e.g. "schema.properties.score.type: expected a type name, found \"float\"".
Status CheckJsonSchema(const nlohmann::json& schema);

// "null", "boolean", "object", "array", "string" or "number" (integers included).
const char* JsonTypeName(const nlohmann::json& value);

// Compact JSON for messages; invalid UTF-8 is replaced rather than thrown on.
std::string DumpForMessage(const nlohmann::json& value, size_t max_bytes = 80);

}  // namespace chorus
