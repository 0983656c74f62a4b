// ${...} references inside team-file strings: ${inputs.request}, ${draft}, ${draft.Risks},
// ${item}. `$${` writes a literal "${". Pure functions, thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "chorus/status.h"

namespace chorus {

struct TemplateRef {
  std::string root;   // "inputs", a step id, "item", "item_index"
  std::string field;  // after the first dot; "" when absent
  size_t begin = 0;   // byte offset of "${" in the text
  size_t end = 0;     // one past the closing "}"
};

// Every reference in `text`, in order. Fails on an unterminated "${", an empty reference, or
// characters outside [A-Za-z0-9_.-] (the message gives the byte offset).
Result<std::vector<TemplateRef>> FindTemplateRefs(std::string_view text);

using TemplateResolver = std::function<Result<std::string>(const TemplateRef&)>;

// Replaces every reference with what `resolve` returns; the first failure is returned.
Result<std::string> ExpandTemplate(std::string_view text, const TemplateResolver& resolve);

}  // namespace chorus
