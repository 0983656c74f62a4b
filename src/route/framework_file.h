// Reading one framework library file: a YAML document naming one meta-category, its
// categories and their frameworks. Every problem is collected as "file:line:col: message" so a
// user sees all of them at once.
//
//   meta_category: { id: 1, name: Sensing & analysis }
//   categories:
//     - id: 1.1
//       name: Environmental scanning
//       frameworks:
//         - id: 1.1.1
//           name: PESTLE analysis
//           summary: ...
//           triggers: [ ... ]
//           examples: [ ... ]
//           instructions: [ ... ]
//           output: { format: markdown, sections: [ ... ] }   # or format: json, schema: {...}
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "chorus/frameworks.h"

namespace chorus::route {

struct FrameworkFile {
  std::vector<Framework> frameworks;  // in file order
  std::vector<std::string> errors;    // "file:line:col: message", in file order
};

// Parses `text` read from `file` (the name used in messages and Framework::source).
FrameworkFile ParseFrameworkFile(const std::string& text, const std::string& file);

// True for "M.C.F" made of three positive decimal numbers without leading zeros.
bool IsFrameworkId(const std::string& id);

}  // namespace chorus::route
