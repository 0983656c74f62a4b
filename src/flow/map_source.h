// The items of a map written `over: frameworks("2.3")`, `over: frameworks(all)` or
// `over: files("docs/*.md")`: each item has a label (the framework id, the file's path), the
// text ${item} expands to, and fields for ${item.FIELD}.
//
// Pure functions apart from reading the files; thread-compatible.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chorus/frameworks.h"
#include "chorus/status.h"
#include "chorus/team.h"

namespace chorus {

struct MapItem {
  std::string label;
  std::string text;
  nlohmann::json fields = nlohmann::json::object();
};

struct MapFileLimits {
  size_t max_file_bytes = 1u << 20;
  size_t max_files = 10'000;
};

// frameworks(...): one item per framework under the prefix ("all" = every one), in id order.
// ${item} is the framework written out (name, summary, when to use, steps, output);
// fields: id, name, category, meta_category, summary, triggers, examples, instructions,
// output. files(...): one item per regular file matching the glob (relative to `base_dir`;
// '*', '?' and '[...]' stay within a path segment, '**' crosses directories), in path order;
// ${item} is the content; fields: path, name, text. Fails with a message that names the
// pattern and the file when nothing matches or a file is unreadable, not UTF-8 or too big.
Result<std::vector<MapItem>> ResolveMapSource(const MapSource& source,
                                              const FrameworkLibrary* library,
                                              const std::string& base_dir,
                                              const MapFileLimits& limits = {});

// A framework written out for a brief: what it is, when to use it, the steps, the output.
std::string FrameworkText(const Framework& framework);

}  // namespace chorus
