// YamlReader: reads typed values out of yaml-cpp nodes for the team loader, turning every
// problem into a Diagnostic with the file, 1-based line and column, what was expected and what
// was found, and carrying on so one pass reports everything. Also the checks yaml-cpp does not
// do itself: duplicate mapping keys.
//
// A YamlReader accumulates diagnostics; use one per parse, from one thread.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chorus/team.h"

namespace chorus {

// One key: value pair of a mapping, with both nodes for their locations.
struct YamlEntry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

// 1-based line and column (in bytes) of `offset` in `text`.
SourceLoc LocOfOffset(std::string_view text, size_t offset, const std::string& file);

// "a mapping", "a list", "nothing", "'some text'".
std::string DescribeNode(const YAML::Node& node);

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  SourceLoc Loc(const YAML::Node& node) const;
  // Where a value's problems are reported: an empty value (`key:`) has no position of its own
  // (yaml-cpp gives the next token's), so its key's is used.
  SourceLoc Loc(const YamlEntry& entry) const;

  void Error(SourceLoc loc, std::string message);
  void Error(const YAML::Node& at, std::string message) { Error(Loc(at), std::move(message)); }
  void Error(const YamlEntry& at, std::string message) { Error(Loc(at), std::move(message)); }
  bool has_errors() const { return !diagnostics_.empty(); }
  // Every diagnostic so far, sorted by line and column (stable).
  std::vector<Diagnostic> TakeDiagnostics();

  // The entries of a mapping, in file order. Reports a value that is not a mapping, keys that
  // are not strings, duplicate keys and keys outside `allowed` (with a suggestion), and drops
  // them. `where` names the mapping in messages: "agent 'writer'", "the team".
  // `unsupported` lists keys of planned features, each with the sentence to show instead of a
  // bare "unknown key".
  struct Unsupported {
    std::string_view key;
    std::string_view explanation;
  };
  std::vector<YamlEntry> Entries(const YamlEntry& entry, const std::vector<std::string>& allowed,
                                 std::string_view where,
                                 const std::vector<Unsupported>& unsupported = {});
  // Same for a node that is not the value of a key (the document, a list element); `what`
  // names it in a type error ("a step").
  std::vector<YamlEntry> Entries(const YAML::Node& map, std::string_view what,
                                 const std::vector<std::string>& allowed, std::string_view where,
                                 const std::vector<Unsupported>& unsupported = {});
  // The entries of a mapping whose keys are names the user chooses (models, agents, headers):
  // only non-string and duplicate keys are reported. An empty value counts as no entries.
  std::vector<YamlEntry> NamedEntries(const YamlEntry& entry, std::string_view where);

  // Typed reads; each reports and returns nullopt when the value does not fit.
  std::optional<std::string> String(const YamlEntry& entry);
  // A string that must not be empty.
  std::optional<std::string> NonEmptyString(const YamlEntry& entry);
  // A list of strings; with `allow_single`, one string stands for a one-element list.
  std::optional<std::vector<std::string>> StringList(const YamlEntry& entry, bool allow_single);
  std::optional<bool> Bool(const YamlEntry& entry);
  std::optional<int64_t> Integer(const YamlEntry& entry, int64_t min, int64_t max);
  // A finite number >= min (or > min when `exclusive`).
  std::optional<double> Number(const YamlEntry& entry, double min, bool exclusive);
  std::optional<std::string> OneOf(const YamlEntry& entry, const std::vector<std::string>& allowed);

  // The YAML value as JSON: plain scalars are typed by the YAML 1.2 core schema (null, bools,
  // integers, floats), quoted scalars stay strings. Mapping keys must be unique strings.
  // An alias inside its own anchor makes a node that contains itself; depth stops that.
  std::optional<nlohmann::json> Json(const YAML::Node& node, int depth = 0);

 private:
  // `allowed` null: any key.
  std::vector<YamlEntry> CheckedEntries(const YAML::Node& map,
                                        const std::vector<std::string>* allowed,
                                        std::string_view where,
                                        const std::vector<Unsupported>& unsupported);

  std::string file_;
  std::vector<Diagnostic> diagnostics_;
  bool json_too_deep_ = false;
};

}  // namespace chorus
