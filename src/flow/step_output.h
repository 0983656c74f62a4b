// What a finished step hands to later steps, and how ${step} / ${step.field} read it.
// Values only; thread-compatible.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "chorus/privacy.h"
#include "chorus/status.h"

namespace chorus {

struct StepOutput {
  std::string text;     // what ${step} expands to
  nlohmann::json json;  // json outputs: the value; markdown: {section: body}; map: array
  // Taint: the highest label of everything the producing agent read (its output is as
  // sensitive as its inputs); a map's output carries the highest of its items.
  Label sensitivity = Label::kPublic;
};

// Appends map item `index` (0-based) as a map's combined output shows it: "### Item 3: label",
// a blank line, then its text. Long labels are cut and line breaks in them become spaces.
void AppendMapItem(std::string* out, size_t index, std::string_view label, std::string_view text);

// A map's output: items in item order. `labels` name the items in the combined text.
StepOutput CombineMapOutputs(const std::vector<std::string>& labels,
                             const std::vector<const StepOutput*>& items);

// ${step.field}: an object member (markdown sections match case-insensitively), an array
// index, or "json" for the whole JSON value. Strings expand raw, anything else as JSON.
Result<std::string> SelectField(const std::string& step, const StepOutput& output,
                                const std::string& field);

// The items a map runs over, from the text its `over` template expanded to: a JSON array, a
// YAML list ("- a\n- b"), or else one item per non-blank line.
Result<std::vector<std::string>> SplitItems(const std::string& text);

}  // namespace chorus
