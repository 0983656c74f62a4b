#include "flow/map_source.h"

#include <fnmatch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/utf8.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;

std::string OutputShape(const ExpectedOutput& output) {
  if (!output.sections.empty()) {
    std::string out = "markdown with the sections ";
    for (size_t i = 0; i < output.sections.size(); ++i) {
      out += (i ? ", " : "") + output.sections[i];
    }
    return out;
  }
  if (!output.schema.is_null()) return "JSON matching the schema " + output.schema.dump();
  return output.description.empty() ? "free text" : output.description;
}

std::string Numbered(const std::vector<std::string>& steps) {
  std::string out;
  for (size_t i = 0; i < steps.size(); ++i) {
    out += std::to_string(i + 1) + ". " + steps[i] + "\n";
  }
  return out;
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : "; ") + s;
  return out;
}

MapItem FrameworkItem(const Framework& fw) {
  MapItem item;
  item.label = fw.id;
  item.text = FrameworkText(fw);
  item.fields = {{"id", fw.id},
                 {"name", fw.name},
                 {"category", fw.category},
                 {"meta_category", fw.meta_category},
                 {"summary", fw.summary},
                 {"triggers", Joined(fw.triggers)},
                 {"examples", Joined(fw.examples)},
                 {"instructions", Numbered(fw.instructions)},
                 {"output", OutputShape(fw.output)}};
  return item;
}

std::string Mib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

// The leading path segments of `pattern` that hold no wildcard: where the walk starts.
std::string FixedPrefix(const std::string& pattern) {
  size_t wildcard = pattern.find_first_of("*?[");
  if (wildcard == std::string::npos) return pattern;
  size_t slash = pattern.rfind('/', wildcard);
  return slash == std::string::npos ? "" : pattern.substr(0, slash);
}

Result<std::vector<MapItem>> FileItems(const std::string& pattern, const std::string& base_dir,
                                       const MapFileLimits& limits) {
  const std::string call = "files(\"" + pattern + "\")";
  const fs::path base(base_dir);
  const std::string prefix = FixedPrefix(pattern);
  const fs::path start =
      prefix.empty() ? base : (fs::path(prefix).is_absolute() ? fs::path(prefix) : base / prefix);
  // Below the fixed prefix, a '/' or '**' means the pattern reaches into subfolders.
  const std::string below = prefix.empty() ? pattern : pattern.substr(prefix.size());
  const bool any_depth = pattern.find("**") != std::string::npos;
  const bool recursive = any_depth || below.find('/', 1) != std::string::npos;
  // Without FNM_PATHNAME, '*' matches '/', which is what '**' means.
  const int flags = any_depth ? FNM_PERIOD : FNM_PATHNAME | FNM_PERIOD;

  std::vector<std::string> matches;
  std::error_code ec;
  auto consider = [&](const fs::directory_entry& entry) {
    std::error_code type_ec;
    if (!entry.is_regular_file(type_ec)) return;
    std::string shown = fs::path(pattern).is_absolute()
                            ? entry.path().string()
                            : entry.path().lexically_relative(base).generic_string();
    if (fnmatch(pattern.c_str(), shown.c_str(), flags) == 0) matches.push_back(shown);
  };
  if (fs::is_regular_file(start, ec)) {
    consider(fs::directory_entry(start));
  } else if (!fs::is_directory(start, ec)) {
    return Err(Status::NotFound(call + ": no file matches; the folder " + start.string() +
                                " does not exist"));
  } else if (recursive) {
    for (auto it = fs::recursive_directory_iterator(
             start, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      consider(*it);
    }
  } else {
    for (auto it = fs::directory_iterator(start, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      consider(*it);
    }
  }
  if (ec)
    return Err(Status::Unavailable(call + ": cannot list " + start.string() + ": " + ec.message()));
  if (matches.empty()) {
    return Err(Status::NotFound(call + ": no file matches (searched " + start.string() +
                                " for paths relative to " + base.string() + ")"));
  }
  if (matches.size() > limits.max_files) {
    return Err(Status::InvalidArgument(call + ": " + std::to_string(matches.size()) +
                                       " files match; a map takes at most " +
                                       std::to_string(limits.max_files)));
  }
  std::sort(matches.begin(), matches.end());
  std::vector<MapItem> items;
  for (const std::string& shown : matches) {
    fs::path path = fs::path(shown).is_absolute() ? fs::path(shown) : base / shown;
    std::error_code size_ec;
    uintmax_t size = fs::file_size(path, size_ec);
    if (!size_ec && size > limits.max_file_bytes) {
      return Err(Status::InvalidArgument(call + ": " + shown + " is " + Mib(size) +
                                         "; a map item file may be at most " +
                                         Mib(limits.max_file_bytes)));
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (!in || size_ec) {
      return Err(Status::Unavailable(call + ": cannot read " + shown +
                                     " (check that it exists and is readable)"));
    }
    std::string text = buffer.str();
    if (auto bad = FindInvalidUtf8(text)) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(text[*bad]));
      return Err(Status::InvalidArgument(call + ": " + shown + " is not UTF-8 text: invalid byte " +
                                         hex + " at byte " + std::to_string(*bad) + " (" +
                                         DescribeOffset(text, *bad) + ")"));
    }
    MapItem item;
    item.label = shown;
    item.fields = {{"path", shown}, {"name", path.filename().string()}, {"text", text}};
    item.text = std::move(text);
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace

std::string FrameworkText(const Framework& fw) {
  std::string out = fw.id + " " + fw.name + " (" + fw.meta_category + " / " + fw.category + ")\n";
  out += fw.summary + "\n";
  if (!fw.triggers.empty()) out += "When to use it: " + Joined(fw.triggers) + "\n";
  if (!fw.instructions.empty()) out += "Steps:\n" + Numbered(fw.instructions);
  out += "Output: " + OutputShape(fw.output) + "\n";
  return out;
}

Result<std::vector<MapItem>> ResolveMapSource(const MapSource& source,
                                              const FrameworkLibrary* library,
                                              const std::string& base_dir,
                                              const MapFileLimits& limits) {
  if (source.kind == MapSource::Kind::kFiles) return FileItems(source.argument, base_dir, limits);
  if (library == nullptr) {
    return Err(Status::FailedPrecondition("frameworks(" + source.argument +
                                          "): the team has no framework library loaded"));
  }
  std::string prefix = source.argument == "all" ? "" : source.argument;
  std::vector<MapItem> items;
  for (const Framework* fw : library->List(prefix)) items.push_back(FrameworkItem(*fw));
  if (items.empty()) {
    return Err(Status::NotFound("frameworks(" + source.argument +
                                "): no framework in the library has that id or prefix"));
  }
  return items;
}

}  // namespace chorus
