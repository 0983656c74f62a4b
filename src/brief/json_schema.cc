// A validator for the JSON Schema subset of chorus/brief.h, written for feedback: every
// violation becomes one "$.path: reason" line that a model can act on.
#include "brief/json_schema.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string_view>
#include <vector>

#include <optional>

#include "chorus/brief.h"

namespace chorus {
namespace {

using nlohmann::json;

constexpr int kMaxRefDepth = 64;
constexpr size_t kMaxViolations = 100;
// libstdc++'s regex matcher recurses once per input character; longer strings could overflow
// the stack, so they are reported instead of matched.
constexpr size_t kMaxPatternSubjectBytes = 4096;

// A count keyword's value (minItems, maxLength...): any integer >= 0, signed or not, since
// schemas built in code or converted from YAML may hold signed integers.
std::optional<size_t> Count(const json& v) {
  if (v.is_number_unsigned()) return v.get<size_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<size_t>(v.get<int64_t>());
  return std::nullopt;
}

const std::set<std::string_view>& TypeNames() {
  static const std::set<std::string_view> names = {"null",   "boolean", "object", "array",
                                                   "number", "integer", "string"};
  return names;
}

bool IsIdentifier(std::string_view key) {
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key[0]))) return false;
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::string ChildPath(const std::string& path, std::string_view key) {
  if (IsIdentifier(key)) return path + "." + std::string(key);
  std::string out = path + "['";
  for (char c : key) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "']";
}

std::string IndexPath(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

}  // namespace

const char* JsonTypeName(const nlohmann::json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::string:
      return "string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "number";
    default:
      return "binary";
  }
}

namespace {

bool MatchesType(std::string_view type, const json& v) {
  if (type == "integer") {
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
  }
  if (type == "number") return v.is_number();
  return type == JsonTypeName(v);
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

const json* ResolveRef(const json& root, const std::string& ref) {
  if (ref == "#") return &root;
  if (ref.rfind("#/", 0) != 0) return nullptr;
  try {
    json::json_pointer pointer(ref.substr(1));
    if (!root.contains(pointer)) return nullptr;
    return &root.at(pointer);
  } catch (const json::exception&) {
    return nullptr;
  }
}

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

class Validator {
 public:
  explicit Validator(const json& root) : root_(root) {}

  void Validate(const json& schema, const json& value, const std::string& path, int depth);

  std::vector<std::string> TakeViolations() {
    if (dropped_ > 0) {
      violations_.push_back("... and " + std::to_string(dropped_) + " more violations");
    }
    return std::move(violations_);
  }
  bool ok() const { return violations_.empty() && dropped_ == 0; }

 private:
  void Add(const std::string& path, const std::string& reason) {
    if (violations_.size() < kMaxViolations) {
      violations_.push_back(path + ": " + reason);
    } else {
      ++dropped_;
    }
  }
  void ValidateNumber(const json& schema, const json& value, const std::string& path);
  void ValidateString(const json& schema, const json& value, const std::string& path);
  void ValidateArray(const json& schema, const json& value, const std::string& path, int depth);
  void ValidateObject(const json& schema, const json& value, const std::string& path, int depth);
  void ValidateAlternatives(const json& schema, const json& value, const std::string& path,
                            int depth);
  const std::regex* Compile(const std::string& pattern);

  const json& root_;
  std::vector<std::string> violations_;
  size_t dropped_ = 0;
  std::map<std::string, std::unique_ptr<std::regex>> regex_cache_;
};

void Validator::Validate(const json& schema, const json& value, const std::string& path,
                         int depth) {
  if (schema.is_boolean()) {
    if (!schema.get<bool>()) Add(path, "no value is allowed here, found " + DumpForMessage(value));
    return;
  }
  if (!schema.is_object()) return;  // CheckJsonSchema reports malformed schemas
  if (depth > kMaxRefDepth) {
    Add(path,
        "schema $ref nesting exceeds " + std::to_string(kMaxRefDepth) + " levels (a $ref cycle?)");
    return;
  }
  if (auto it = schema.find("$ref"); it != schema.end() && it->is_string()) {
    const json* target = ResolveRef(root_, it->get<std::string>());
    if (target == nullptr) {
      Add(path, "schema $ref '" + it->get<std::string>() + "' does not resolve");
    } else {
      Validate(*target, value, path, depth + 1);
    }
  }
  if (auto it = schema.find("type"); it != schema.end()) {
    bool matched = false;
    std::string expected;
    if (it->is_string()) {
      expected = it->get<std::string>();
      matched = MatchesType(expected, value);
    } else if (it->is_array()) {
      for (const json& t : *it) {
        if (!t.is_string()) continue;
        if (!expected.empty()) expected += " or ";
        expected += t.get<std::string>();
        matched = matched || MatchesType(t.get<std::string>(), value);
      }
    } else {
      matched = true;
    }
    if (!matched) {
      // Later keywords would only restate the mismatch.
      Add(path, "expected " + expected + ", found " + JsonTypeName(value));
      return;
    }
  }
  if (auto it = schema.find("enum"); it != schema.end() && it->is_array()) {
    bool found = false;
    std::string allowed;
    for (const json& option : *it) {
      found = found || option == value;
      if (!allowed.empty()) allowed += ", ";
      allowed += DumpForMessage(option, 40);
    }
    if (!found) Add(path, "expected one of " + allowed + ", found " + DumpForMessage(value));
  }
  if (auto it = schema.find("const"); it != schema.end() && *it != value) {
    Add(path, "expected " + DumpForMessage(*it) + ", found " + DumpForMessage(value));
  }
  if (value.is_number()) ValidateNumber(schema, value, path);
  if (value.is_string()) ValidateString(schema, value, path);
  if (value.is_array()) ValidateArray(schema, value, path, depth);
  if (value.is_object()) ValidateObject(schema, value, path, depth);
  if (auto it = schema.find("allOf"); it != schema.end() && it->is_array()) {
    for (const json& sub : *it) Validate(sub, value, path, depth + 1);
  }
  ValidateAlternatives(schema, value, path, depth);
}

void Validator::ValidateNumber(const json& schema, const json& value, const std::string& path) {
  const double x = value.get<double>();
  struct Bound {
    const char* keyword;
    const char* relation;
    bool (*holds)(double, double);
  };
  static constexpr Bound kBounds[] = {
      {"minimum", ">=", [](double v, double b) { return v >= b; }},
      {"maximum", "<=", [](double v, double b) { return v <= b; }},
      {"exclusiveMinimum", ">", [](double v, double b) { return v > b; }},
      {"exclusiveMaximum", "<", [](double v, double b) { return v < b; }},
  };
  for (const Bound& bound : kBounds) {
    auto it = schema.find(bound.keyword);
    if (it == schema.end() || !it->is_number()) continue;
    if (!bound.holds(x, it->get<double>())) {
      Add(path, std::string("expected a number ") + bound.relation + " " + it->dump() + ", found " +
                    value.dump());
    }
  }
}

void Validator::ValidateString(const json& schema, const json& value, const std::string& path) {
  const std::string& s = value.get_ref<const std::string&>();
  const size_t length = CodePoints(s);
  if (auto it = schema.find("minLength"); it != schema.end() && Count(*it)) {
    if (length < *Count(*it)) {
      Add(path, "expected at least " + it->dump() + " characters, found " + std::to_string(length));
    }
  }
  if (auto it = schema.find("maxLength"); it != schema.end() && Count(*it)) {
    if (length > *Count(*it)) {
      Add(path, "expected at most " + it->dump() + " characters, found " + std::to_string(length));
    }
  }
  if (auto it = schema.find("pattern"); it != schema.end() && it->is_string()) {
    const std::string& pattern = it->get_ref<const std::string&>();
    const std::regex* re = Compile(pattern);
    if (re == nullptr) {
      Add(path, "schema pattern /" + pattern + "/ is not a valid regular expression");
    } else if (s.size() > kMaxPatternSubjectBytes) {
      Add(path, "string of " + std::to_string(s.size()) + " bytes is longer than the " +
                    std::to_string(kMaxPatternSubjectBytes) +
                    " bytes that can be checked against pattern /" + pattern + "/");
    } else {
      bool matched = false;
      try {
        matched = std::regex_search(s, *re);
      } catch (const std::regex_error&) {
        matched = false;
      }
      if (!matched) {
        Add(path, "expected a string matching /" + pattern + "/, found " + DumpForMessage(value));
      }
    }
  }
}

void Validator::ValidateArray(const json& schema, const json& value, const std::string& path,
                              int depth) {
  const size_t n = value.size();
  if (auto it = schema.find("minItems"); it != schema.end() && Count(*it)) {
    if (n < *Count(*it)) {
      Add(path, "expected at least " + it->dump() + " items, found " + std::to_string(n));
    }
  }
  if (auto it = schema.find("maxItems"); it != schema.end() && Count(*it)) {
    if (n > *Count(*it)) {
      Add(path, "expected at most " + it->dump() + " items, found " + std::to_string(n));
    }
  }
  // Positional schemas: 2020-12 "prefixItems", or the older array form of "items".
  size_t positional = 0;
  const json* prefix = nullptr;
  if (auto it = schema.find("prefixItems"); it != schema.end() && it->is_array()) prefix = &*it;
  auto items = schema.find("items");
  if (items != schema.end() && items->is_array()) prefix = &*items;
  if (prefix != nullptr) {
    positional = std::min(prefix->size(), n);
    for (size_t i = 0; i < positional; ++i) {
      Validate((*prefix)[i], value[i], IndexPath(path, i), depth + 1);
    }
  }
  if (items != schema.end() && (items->is_object() || items->is_boolean())) {
    for (size_t i = positional; i < n; ++i) {
      Validate(*items, value[i], IndexPath(path, i), depth + 1);
    }
  }
}

void Validator::ValidateObject(const json& schema, const json& value, const std::string& path,
                               int depth) {
  if (auto it = schema.find("required"); it != schema.end() && it->is_array()) {
    for (const json& name : *it) {
      if (name.is_string() && !value.contains(name.get<std::string>())) {
        Add(path, "missing required property " + Quoted(name.get<std::string>()));
      }
    }
  }
  const json* properties = nullptr;
  if (auto it = schema.find("properties"); it != schema.end() && it->is_object()) {
    properties = &*it;
  }
  const auto additional = schema.find("additionalProperties");
  for (const auto& [key, child] : value.items()) {
    if (properties != nullptr) {
      if (auto p = properties->find(key); p != properties->end()) {
        Validate(*p, child, ChildPath(path, key), depth + 1);
        continue;
      }
    }
    if (additional == schema.end()) continue;
    if (additional->is_boolean() && !additional->get<bool>()) {
      std::string allowed;
      if (properties != nullptr) {
        for (const auto& [name, unused] : properties->items()) {
          allowed += allowed.empty() ? " (allowed: " : ", ";
          allowed += Quoted(name);
        }
      }
      Add(path, "unexpected property " + Quoted(key) + (allowed.empty() ? "" : allowed + ")"));
    } else {
      Validate(*additional, child, ChildPath(path, key), depth + 1);
    }
  }
}

void Validator::ValidateAlternatives(const json& schema, const json& value, const std::string& path,
                                     int depth) {
  for (const char* keyword : {"anyOf", "oneOf"}) {
    auto it = schema.find(keyword);
    if (it == schema.end() || !it->is_array() || it->empty()) continue;
    std::vector<size_t> matching;
    std::string reasons;
    for (size_t i = 0; i < it->size(); ++i) {
      Validator alternative(root_);
      alternative.regex_cache_.swap(regex_cache_);
      alternative.Validate((*it)[i], value, path, depth + 1);
      regex_cache_.swap(alternative.regex_cache_);
      if (alternative.ok()) {
        matching.push_back(i + 1);
        continue;
      }
      std::vector<std::string> why = alternative.TakeViolations();
      reasons += reasons.empty() ? " (" : "; ";
      reasons += std::to_string(i + 1) + ": " + why.front();
      if (why.size() > 1) reasons += " and " + std::to_string(why.size() - 1) + " more";
    }
    const std::string count = std::to_string(it->size());
    if (matching.empty()) {
      Add(path, std::string("matches none of the ") + count + " " + keyword + " alternatives" +
                    reasons + ")");
    } else if (std::string_view(keyword) == "oneOf" && matching.size() > 1) {
      std::string which;
      for (size_t m : matching) which += (which.empty() ? "" : ", ") + std::to_string(m);
      Add(path, "matches " + std::to_string(matching.size()) + " of the " + count +
                    " oneOf alternatives (" + which + "), expected exactly one");
    }
  }
}

const std::regex* Validator::Compile(const std::string& pattern) {
  auto it = regex_cache_.find(pattern);
  if (it == regex_cache_.end()) {
    std::unique_ptr<std::regex> re;
    try {
      re = std::make_unique<std::regex>(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      re = nullptr;
    }
    it = regex_cache_.emplace(pattern, std::move(re)).first;
  }
  return it->second.get();
}

// ---- Well-formedness of a schema -------------------------------------------------------------

class SchemaChecker {
 public:
  explicit SchemaChecker(const json& root) : root_(root) {}

  Status Check(const json& schema, const std::string& where, int depth);

 private:
  Status CheckSchemaList(const json& list, const std::string& where, int depth, bool non_empty);
  Status CheckSchemaMap(const json& map, const std::string& where, int depth);

  const json& root_;
};

Status Mismatch(const std::string& where, std::string_view expected, const json& found) {
  return Status::InvalidArgument(where + ": expected " + std::string(expected) + ", found " +
                                 DumpForMessage(found));
}

Status SchemaChecker::Check(const json& schema, const std::string& where, int depth) {
  if (schema.is_boolean()) return Status::Ok();
  if (!schema.is_object()) return Mismatch(where, "a schema object or boolean", schema);
  if (depth > 200) return Status::InvalidArgument(where + ": schema nested too deeply");
  for (const auto& [key, v] : schema.items()) {
    const std::string at = where + "." + key;
    Status s;
    if (key == "type") {
      auto known = [](const json& t) {
        return t.is_string() && TypeNames().count(t.get<std::string>());
      };
      bool ok = known(v);
      if (v.is_array() && !v.empty()) {
        ok = true;
        for (const json& t : v) ok = ok && known(t);
      }
      if (!ok)
        s = Mismatch(at,
                     "a type name (null, boolean, object, array, number, integer, "
                     "string) or a list of them",
                     v);
    } else if (key == "properties" || key == "$defs" || key == "definitions") {
      s = CheckSchemaMap(v, at, depth);
    } else if (key == "required") {
      bool ok = v.is_array();
      for (const json& name : v) ok = ok && name.is_string();
      if (!ok) s = Mismatch(at, "a list of property names", v);
    } else if (key == "additionalProperties") {
      s = Check(v, at, depth + 1);
    } else if (key == "items") {
      s = v.is_array() ? CheckSchemaList(v, at, depth, false) : Check(v, at, depth + 1);
    } else if (key == "prefixItems") {
      s = CheckSchemaList(v, at, depth, false);
    } else if (key == "anyOf" || key == "oneOf" || key == "allOf") {
      s = CheckSchemaList(v, at, depth, true);
    } else if (key == "enum") {
      if (!v.is_array()) s = Mismatch(at, "a list of allowed values", v);
    } else if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum" ||
               key == "exclusiveMaximum") {
      if (!v.is_number()) s = Mismatch(at, "a number", v);
    } else if (key == "minLength" || key == "maxLength" || key == "minItems" || key == "maxItems") {
      if (!Count(v)) s = Mismatch(at, "a non-negative integer", v);
    } else if (key == "pattern") {
      if (!v.is_string()) {
        s = Mismatch(at, "a regular expression string", v);
      } else {
        try {
          std::regex re(v.get<std::string>(), std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          s = Status::InvalidArgument(at + ": expected a valid regular expression, found /" +
                                      v.get<std::string>() + "/ (" + e.what() + ")");
        }
      }
    } else if (key == "$ref") {
      if (!v.is_string()) {
        s = Mismatch(at, "a local reference such as \"#/$defs/name\"", v);
      } else if (ResolveRef(root_, v.get<std::string>()) == nullptr) {
        s = Status::InvalidArgument(
            at +
            ": expected a local reference such as \"#/$defs/name\" that exists in the "
            "schema, found " +
            DumpForMessage(v) + " (files and URLs must be inlined before the brief is built)");
      }
    }
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status SchemaChecker::CheckSchemaList(const json& list, const std::string& where, int depth,
                                      bool non_empty) {
  if (!list.is_array() || (non_empty && list.empty())) {
    return Mismatch(where, non_empty ? "a non-empty list of schemas" : "a list of schemas", list);
  }
  for (size_t i = 0; i < list.size(); ++i) {
    if (Status s = Check(list[i], IndexPath(where, i), depth + 1); !s.ok()) return s;
  }
  return Status::Ok();
}

Status SchemaChecker::CheckSchemaMap(const json& map, const std::string& where, int depth) {
  if (!map.is_object()) return Mismatch(where, "an object of named schemas", map);
  for (const auto& [name, sub] : map.items()) {
    if (Status s = Check(sub, ChildPath(where, name), depth + 1); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

std::string DumpForMessage(const nlohmann::json& value, size_t max_bytes) {
  std::string out = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (out.size() <= max_bytes) return out;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  return out + "…";
}

Status CheckJsonSchema(const nlohmann::json& schema) {
  return SchemaChecker(schema).Check(schema, "schema", 0);
}

std::vector<std::string> ValidateJsonSchema(const nlohmann::json& schema,
                                            const nlohmann::json& value) {
  Validator validator(schema);
  validator.Validate(schema, value, "$", 0);
  return validator.TakeViolations();
}

}  // namespace chorus
