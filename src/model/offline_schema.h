// Builds a JSON value that satisfies a JSON Schema (the subset briefs use: type and type
// lists, properties, required, additionalProperties, items, prefixItems, enum, const, numeric
// bounds, length and item-count bounds, pattern, format, anyOf/oneOf/allOf and local $ref),
// with strings taken from the brief's own text. Used by the offline model; pure and
// thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model/offline_text.h"

namespace chorus::offline {

// What the generated strings are drawn from.
struct Material {
  std::string_view id;
  std::string_view objective;
  std::vector<std::string_view> constraints;
  const SentenceIndex* context = nullptr;  // the brief's context, may be empty
};

// A value for `schema`. When the top-level schema is an object that allows extra properties,
// `notice_key` is set to `notice` (so the value says where it came from).
nlohmann::json BuildInstance(const nlohmann::json& schema, const Material& material,
                             const std::string& notice_key, const std::string& notice);

}  // namespace chorus::offline
