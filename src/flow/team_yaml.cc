#include "flow/team_yaml.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <tuple>
#include <utility>

#include "flow/suggest.h"

namespace chorus {
namespace {

constexpr std::string_view kStrTag = "tag:yaml.org,2002:str";

// yaml-cpp marks the position of an empty value as the next token's; `key:` at the end of
// the file has no mark at all.
bool HasMark(const YAML::Node& node) { return node.IsDefined() && node.Mark().line >= 0; }

bool IsPlain(const YAML::Node& node) { return node.Tag() == "?"; }

bool IsYamlNull(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return true;
  if (!node.IsScalar() || !IsPlain(node)) return false;
  const std::string& s = node.Scalar();
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<bool> ParseBool(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

std::optional<int64_t> ParseInt(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

std::optional<double> ParseFloat(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  // from_chars also takes "inf" and "nan"; neither is a YAML 1.2 core float spelled that way.
  if (s.empty() || !(std::isdigit(static_cast<unsigned char>(s.back())) || s.back() == '.')) {
    return std::nullopt;
  }
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::string Quoted(const std::string& text) {
  constexpr size_t kMax = 40;
  if (text.size() <= kMax) return "'" + text + "'";
  size_t cut = kMax;
  // Do not split a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return "'" + text.substr(0, cut) + "…'";
}

std::string IntegerRange(int64_t min, int64_t max) {
  if (max == std::numeric_limits<int64_t>::max()) {
    if (min == 1) return "a positive integer";
    if (min == 0) return "a non-negative integer";
    return "an integer of at least " + std::to_string(min);
  }
  return "an integer from " + std::to_string(min) + " to " + std::to_string(max);
}

}  // namespace

SourceLoc LocOfOffset(std::string_view text, size_t offset, const std::string& file) {
  SourceLoc loc{file, 1, 1};
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++loc.line;
      loc.column = 1;
    } else {
      ++loc.column;
    }
  }
  return loc;
}

std::string DescribeNode(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return node.size() == 0 ? "an empty mapping" : "a mapping";
  if (node.IsSequence()) return node.size() == 0 ? "an empty list" : "a list";
  return Quoted(node.Scalar());
}

SourceLoc YamlReader::Loc(const YAML::Node& node) const {
  if (!HasMark(node)) return SourceLoc{file_, 0, 0};
  return SourceLoc{file_, node.Mark().line + 1, node.Mark().column + 1};
}

SourceLoc YamlReader::Loc(const YamlEntry& entry) const {
  return IsYamlNull(entry.value) || !HasMark(entry.value) ? Loc(entry.key_node) : Loc(entry.value);
}

void YamlReader::Error(SourceLoc loc, std::string message) {
  diagnostics_.push_back(Diagnostic{std::move(loc), std::move(message)});
}

std::vector<Diagnostic> YamlReader::TakeDiagnostics() {
  // The team file's problems in file order; those in files it includes (schemas) after them.
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) {
                     auto key = [&](const Diagnostic& d) {
                       return std::make_tuple(d.loc.file != file_, d.loc.line, d.loc.column);
                     };
                     return key(a) < key(b);
                   });
  return std::exchange(diagnostics_, {});
}

std::vector<YamlEntry> YamlReader::Entries(const YamlEntry& entry,
                                           const std::vector<std::string>& allowed,
                                           std::string_view where,
                                           const std::vector<Unsupported>& unsupported) {
  if (!entry.value.IsMap()) {
    Error(entry, entry.key + ": expected a mapping, found " + DescribeNode(entry.value));
    return {};
  }
  return CheckedEntries(entry.value, &allowed, where, unsupported);
}

std::vector<YamlEntry> YamlReader::NamedEntries(const YamlEntry& entry, std::string_view where) {
  if (IsYamlNull(entry.value)) return {};
  if (!entry.value.IsMap()) {
    Error(entry, entry.key + ": expected a mapping of names, found " + DescribeNode(entry.value));
    return {};
  }
  return CheckedEntries(entry.value, nullptr, where, {});
}

std::vector<YamlEntry> YamlReader::Entries(const YAML::Node& map, std::string_view what,
                                           const std::vector<std::string>& allowed,
                                           std::string_view where,
                                           const std::vector<Unsupported>& unsupported) {
  if (!map.IsMap()) {
    Error(map, "expected " + std::string(what) + " (a mapping), found " + DescribeNode(map));
    return {};
  }
  return CheckedEntries(map, &allowed, where, unsupported);
}

std::vector<YamlEntry> YamlReader::CheckedEntries(const YAML::Node& map,
                                                  const std::vector<std::string>* allowed,
                                                  std::string_view where,
                                                  const std::vector<Unsupported>& unsupported) {
  std::vector<YamlEntry> entries;
  std::vector<YamlEntry> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    YamlEntry entry{"", it->first, it->second};
    if (!entry.key_node.IsScalar()) {
      Error(entry.key_node, "expected a name as the key in " + std::string(where) + ", found " +
                                DescribeNode(entry.key_node));
      continue;
    }
    entry.key = entry.key_node.Scalar();
    // yaml-cpp keeps both pairs of a repeated key and lookups silently take the first.
    auto previous = std::find_if(seen.begin(), seen.end(),
                                 [&](const YamlEntry& e) { return e.key == entry.key; });
    if (previous != seen.end()) {
      SourceLoc first = Loc(previous->key_node);
      Error(entry.key_node, "duplicate key '" + entry.key + "' in " + std::string(where) +
                                ": already defined at line " + std::to_string(first.line) +
                                ", column " + std::to_string(first.column));
      continue;
    }
    seen.push_back(entry);
    if (allowed == nullptr ||
        std::find(allowed->begin(), allowed->end(), entry.key) != allowed->end()) {
      entries.push_back(std::move(entry));
      continue;
    }
    auto planned = std::find_if(unsupported.begin(), unsupported.end(),
                                [&](const Unsupported& u) { return u.key == entry.key; });
    std::string message = "unknown key '" + entry.key + "' in " + std::string(where);
    if (planned != unsupported.end()) {
      message += ": " + std::string(planned->explanation);
    } else if (entry.key == "<<") {
      message += ": YAML merge keys are not supported; repeat the keys or use an alias (*name)";
    } else if (std::string hint = DidYouMean(entry.key, *allowed); !hint.empty()) {
      message += hint;
    } else {
      message += ": expected " + QuotedList(*allowed);
    }
    Error(entry.key_node, std::move(message));
  }
  return entries;
}

std::optional<std::string> YamlReader::String(const YamlEntry& entry) {
  if (!entry.value.IsScalar()) {
    Error(entry, entry.key + ": expected a string, found " + DescribeNode(entry.value));
    return std::nullopt;
  }
  return entry.value.Scalar();
}

std::optional<std::string> YamlReader::NonEmptyString(const YamlEntry& entry) {
  std::optional<std::string> value = String(entry);
  if (value && value->empty()) {
    Error(entry, entry.key + ": expected a non-empty string, found ''");
    return std::nullopt;
  }
  return value;
}

std::optional<std::vector<std::string>> YamlReader::StringList(const YamlEntry& entry,
                                                               bool allow_single) {
  if (allow_single && entry.value.IsScalar()) return std::vector<std::string>{entry.value.Scalar()};
  if (!entry.value.IsSequence()) {
    Error(entry, entry.key + ": expected a list of strings" +
                     std::string(allow_single ? " or one string" : "") + ", found " +
                     DescribeNode(entry.value));
    return std::nullopt;
  }
  std::vector<std::string> items;
  bool ok = true;
  for (size_t i = 0; i < entry.value.size(); ++i) {
    YAML::Node item = entry.value[i];
    if (!item.IsScalar()) {
      Error(item, entry.key + "[" + std::to_string(i) + "]: expected a string, found " +
                      DescribeNode(item));
      ok = false;
      continue;
    }
    items.push_back(item.Scalar());
  }
  if (!ok) return std::nullopt;
  return items;
}

std::optional<bool> YamlReader::Bool(const YamlEntry& entry) {
  std::optional<bool> value;
  if (entry.value.IsScalar()) value = ParseBool(entry.value.Scalar());
  if (!value) {
    Error(entry, entry.key + ": expected true or false, found " + DescribeNode(entry.value));
  }
  return value;
}

std::optional<int64_t> YamlReader::Integer(const YamlEntry& entry, int64_t min, int64_t max) {
  std::optional<int64_t> value;
  if (entry.value.IsScalar()) value = ParseInt(entry.value.Scalar());
  if (!value || *value < min || *value > max) {
    Error(entry, entry.key + ": expected " + IntegerRange(min, max) + ", found " +
                     DescribeNode(entry.value));
    return std::nullopt;
  }
  return value;
}

std::optional<double> YamlReader::Number(const YamlEntry& entry, double min, bool exclusive) {
  std::optional<double> value;
  if (entry.value.IsScalar()) value = ParseFloat(entry.value.Scalar());
  if (!value || *value < min || (exclusive && *value == min)) {
    std::string expected = min == 0
                               ? (exclusive ? "a positive number" : "a non-negative number")
                               : "a number " + std::string(exclusive ? "above " : "of at least ") +
                                     nlohmann::json(min).dump();
    Error(entry, entry.key + ": expected " + expected + ", found " + DescribeNode(entry.value));
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> YamlReader::OneOf(const YamlEntry& entry,
                                             const std::vector<std::string>& allowed) {
  std::optional<std::string> value = String(entry);
  if (!value) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *value) == allowed.end()) {
    Error(entry, entry.key + ": expected " + QuotedList(allowed) + ", found " +
                     DescribeNode(entry.value) + DidYouMean(*value, allowed));
    return std::nullopt;
  }
  return value;
}

std::optional<nlohmann::json> YamlReader::Json(const YAML::Node& node, int depth) {
  constexpr int kMaxDepth = 64;
  if (depth == 0) json_too_deep_ = false;
  if (depth > kMaxDepth) {
    // One report per value: a self-containing node is too deep along every path.
    if (std::exchange(json_too_deep_, true)) return std::nullopt;
    Error(node, "expected JSON nested at most " + std::to_string(kMaxDepth) +
                    " levels deep, found deeper nesting (an alias inside its own anchor?)");
    return std::nullopt;
  }
  if (IsYamlNull(node)) return nlohmann::json(nullptr);
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (!IsPlain(node) || node.Tag() == kStrTag) return nlohmann::json(s);
    if (std::optional<bool> b = ParseBool(s)) return nlohmann::json(*b);
    // Like nlohmann's own parser: non-negative integers are unsigned, so schema keywords such as
    // minItems read the same whether the schema came from YAML or from a JSON file.
    if (std::optional<int64_t> i = ParseInt(s)) {
      return *i >= 0 ? nlohmann::json(static_cast<uint64_t>(*i)) : nlohmann::json(*i);
    }
    if (std::optional<double> d = ParseFloat(s)) return nlohmann::json(*d);
    return nlohmann::json(s);
  }
  if (node.IsSequence()) {
    nlohmann::json array = nlohmann::json::array();
    bool ok = true;
    for (const YAML::Node& item : node) {
      std::optional<nlohmann::json> value = Json(item, depth + 1);
      if (value) {
        array.push_back(std::move(*value));
      } else {
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return array;
  }
  nlohmann::json object = nlohmann::json::object();
  size_t errors_before = diagnostics_.size();
  // A JSON object can hold any key, so only the structural checks (string, unique) apply.
  for (auto it = node.begin(); it != node.end(); ++it) {
    YamlEntry entry{"", it->first, it->second};
    if (!entry.key_node.IsScalar()) {
      Error(entry.key_node,
            "expected a string as a JSON object key, found " + DescribeNode(entry.key_node));
      continue;
    }
    entry.key = entry.key_node.Scalar();
    if (object.contains(entry.key)) {
      Error(entry.key_node, "duplicate key '" + entry.key + "' in a JSON object");
      continue;
    }
    std::optional<nlohmann::json> value = Json(entry.value, depth + 1);
    if (value) object[entry.key] = std::move(*value);
  }
  if (diagnostics_.size() != errors_before) return std::nullopt;
  return object;
}

}  // namespace chorus
