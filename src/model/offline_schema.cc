#include "model/offline_schema.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <regex>
#include <set>

namespace chorus::offline {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 24;
// Below this depth only required properties and minItems items are generated, so recursive
// schemas (trees) stay small.
constexpr int kOptionalDepth = 6;
constexpr int kMaxRefHops = 32;
constexpr size_t kNaturalItems = 3;

const json* ResolveRef(const json& root, const std::string& ref) {
  if (ref == "#") return &root;
  if (ref.rfind("#/", 0) != 0) return nullptr;
  try {
    json::json_pointer pointer(ref.substr(1));
    return root.contains(pointer) ? &root.at(pointer) : nullptr;
  } catch (const json::exception&) {
    return nullptr;
  }
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string FirstCodePoints(std::string_view s, size_t count) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && n++ == count) {
      return std::string(s.substr(0, i));
    }
  }
  return std::string(s);
}

std::string FormatExample(std::string_view format) {
  if (format == "date-time") return "2000-01-01T00:00:00Z";
  if (format == "date") return "2000-01-01";
  if (format == "time") return "00:00:00Z";
  if (format == "email" || format == "idn-email") return "offline@example.com";
  if (format == "uri" || format == "url" || format == "iri" || format == "uri-reference") {
    return "https://example.com/";
  }
  if (format == "uuid") return "00000000-0000-0000-0000-000000000000";
  if (format == "hostname" || format == "idn-hostname") return "example.com";
  if (format == "ipv4") return "192.0.2.1";
  if (format == "ipv6") return "2001:db8::1";
  if (format == "duration") return "P1D";
  return {};
}

class Builder {
 public:
  Builder(const json& root, const Material& material) : root_(root), material_(material) {}

  json Build(const json& schema, std::string_view name, std::string_view parent, size_t ordinal,
             int depth);

 private:
  const json& Effective(const json& schema, json* storage, int hops);
  json BuildObject(const json& s, std::string_view name, size_t ordinal, int depth);
  json BuildArray(const json& s, std::string_view name, std::string_view parent, int depth);
  std::string BuildString(const json& s, std::string_view name, std::string_view parent,
                          size_t ordinal);
  std::string Text(std::string_view name, std::string_view parent, size_t ordinal);
  std::string_view TopicSentence(std::string_view topic, size_t ordinal) const;
  std::string Summary() const;
  size_t NaturalCount(std::string_view name) const;

  const json& root_;
  const Material& material_;
};

void MergeInto(json* base, const json& add) {
  if (!add.is_object()) return;
  static const std::set<std::string, std::less<>> kSkip = {"$ref",  "allOf", "anyOf",
                                                           "oneOf", "$defs", "definitions"};
  for (const auto& [key, value] : add.items()) {
    if (kSkip.count(key)) continue;
    auto it = base->find(key);
    if (it == base->end()) {
      (*base)[key] = value;
    } else if (key == "properties" && it->is_object() && value.is_object()) {
      for (const auto& [name, sub] : value.items()) {
        if (!it->contains(name)) (*it)[name] = sub;
      }
    } else if (key == "required" && it->is_array() && value.is_array()) {
      for (const json& name : value) {
        if (std::find(it->begin(), it->end(), name) == it->end()) it->push_back(name);
      }
    } else if (it->is_number() && value.is_number()) {
      // The tighter of two bounds.
      const bool lower = key.starts_with("min") || key == "exclusiveMinimum";
      const bool upper = key.starts_with("max") || key == "exclusiveMaximum";
      if ((lower && value > *it) || (upper && value < *it)) *it = value;
    }
  }
}

const json& Builder::Effective(const json& schema, json* storage, int hops) {
  if (!schema.is_object()) return schema;
  const bool plain = !schema.contains("$ref") && !schema.contains("allOf") &&
                     !schema.contains("anyOf") && !schema.contains("oneOf");
  if (plain) return schema;
  *storage = json::object();
  MergeInto(storage, schema);
  if (auto it = schema.find("$ref"); it != schema.end() && it->is_string() && hops < kMaxRefHops) {
    if (const json* target = ResolveRef(root_, it->get<std::string>())) {
      json scratch;
      MergeInto(storage, Effective(*target, &scratch, hops + 1));
    }
  }
  if (auto it = schema.find("allOf"); it != schema.end() && it->is_array()) {
    for (const json& sub : *it) {
      json scratch;
      MergeInto(storage, Effective(sub, &scratch, hops + 1));
    }
  }
  // One alternative is enough; the first is the schema author's primary shape.
  for (const char* keyword : {"anyOf", "oneOf"}) {
    auto it = schema.find(keyword);
    if (it != schema.end() && it->is_array() && !it->empty()) {
      json scratch;
      MergeInto(storage, Effective(it->front(), &scratch, hops + 1));
    }
  }
  return *storage;
}

std::string TypeOf(const json& s) {
  if (auto it = s.find("type"); it != s.end()) {
    if (it->is_string()) return it->get<std::string>();
    if (it->is_array()) {
      for (const json& t : *it) {
        if (t.is_string() && t != "null") return t.get<std::string>();
      }
      return "null";
    }
  }
  if (s.contains("properties") || s.contains("required") || s.contains("additionalProperties")) {
    return "object";
  }
  if (s.contains("items") || s.contains("prefixItems") || s.contains("minItems")) return "array";
  if (s.contains("minimum") || s.contains("maximum") || s.contains("exclusiveMinimum") ||
      s.contains("exclusiveMaximum")) {
    return "number";
  }
  return "string";
}

json Builder::Build(const json& schema, std::string_view name, std::string_view parent,
                    size_t ordinal, int depth) {
  if (depth > kMaxDepth) return nullptr;
  json storage;
  const json& s = Effective(schema, &storage, 0);
  if (s.is_boolean()) return s.get<bool>() ? json(Text(name, parent, ordinal)) : json();
  if (!s.is_object()) return Text(name, parent, ordinal);
  if (auto it = s.find("const"); it != s.end()) return *it;
  if (auto it = s.find("enum"); it != s.end() && it->is_array() && !it->empty()) {
    return it->front();
  }
  const std::string type = TypeOf(s);
  if (type == "object") return BuildObject(s, name, ordinal, depth);
  if (type == "array") return BuildArray(s, name, parent, depth);
  if (type == "boolean") return false;
  if (type == "null") return nullptr;
  if (type == "integer" || type == "number") {
    constexpr double kInf = std::numeric_limits<double>::infinity();
    auto bound = [&s](const char* key, double fallback) {
      auto it = s.find(key);
      return it != s.end() && it->is_number() ? it->get<double>() : fallback;
    };
    const double min = bound("minimum", -kInf), max = bound("maximum", kInf);
    const double xmin = bound("exclusiveMinimum", -kInf), xmax = bound("exclusiveMaximum", kInf);
    if (type == "integer") {
      const double lo = std::max(std::ceil(min), std::floor(xmin) + 1);
      const double hi = std::min(std::floor(max), std::ceil(xmax) - 1);
      // Bounds beyond what an int64 holds exactly cannot be honoured anyway.
      constexpr double kLimit = 9007199254740992.0;  // 2^53
      const double v = std::clamp(0.0, lo, std::max(lo, hi));
      return static_cast<int64_t>(std::clamp(v, -kLimit, kLimit));
    }
    double lo = std::max(min, xmin), hi = std::min(max, xmax);
    double v = std::clamp(0.0, lo, std::max(lo, hi));
    if (v <= xmin) v = std::isfinite(hi) ? (xmin + hi) / 2 : xmin + 1;
    if (v >= xmax) v = std::isfinite(lo) ? (lo + xmax) / 2 : xmax - 1;
    return v;
  }
  return BuildString(s, name, parent, ordinal);
}

json Builder::BuildObject(const json& s, std::string_view name, size_t ordinal, int depth) {
  json out = json::object();
  std::set<std::string, std::less<>> required;
  if (auto it = s.find("required"); it != s.end() && it->is_array()) {
    for (const json& r : *it) {
      if (r.is_string()) required.insert(r.get<std::string>());
    }
  }
  if (auto it = s.find("properties"); it != s.end() && it->is_object()) {
    for (const auto& [key, sub] : it->items()) {
      if (required.count(key) || depth < kOptionalDepth) {
        out[key] = Build(sub, key, name, ordinal, depth + 1);
      }
    }
  }
  // Required names without a property schema follow additionalProperties.
  auto additional = s.find("additionalProperties");
  for (const std::string& key : required) {
    if (out.contains(key)) continue;
    if (additional != s.end() && additional->is_object()) {
      out[key] = Build(*additional, key, name, ordinal, depth + 1);
    } else {
      out[key] = Text(key, name, ordinal);
    }
  }
  return out;
}

size_t Builder::NaturalCount(std::string_view name) const {
  switch (RoleOfName(name)) {
    case NameRole::kConstraint:
      return material_.constraints.size();
    case NameRole::kTitle:
    case NameRole::kIdentifier:
      return 1;
    case NameRole::kSummary:
    case NameRole::kTopic: {
      if (material_.context == nullptr) return 1;
      std::vector<uint64_t> topic;
      if (RoleOfName(name) == NameRole::kTopic) topic = ContentTerms(name);
      return material_.context->Best(topic, kNaturalItems, 2000).size();
    }
  }
  return 1;
}

json Builder::BuildArray(const json& s, std::string_view name, std::string_view parent, int depth) {
  auto count_of = [&s](const char* key, size_t fallback) {
    auto it = s.find(key);
    return it != s.end() && it->is_number_integer() && it->get<int64_t>() >= 0
               ? static_cast<size_t>(it->get<int64_t>())
               : fallback;
  };
  const size_t min_items = count_of("minItems", 0);
  const size_t max_items = std::max(min_items, count_of("maxItems", kNaturalItems * 4));
  const json* prefix = nullptr;
  if (auto it = s.find("prefixItems"); it != s.end() && it->is_array()) prefix = &*it;
  auto items = s.find("items");
  if (items != s.end() && items->is_array()) prefix = &*items;
  const bool open = items == s.end() || items->is_object() || (items->is_boolean() && *items);
  const size_t positional = prefix == nullptr ? 0 : prefix->size();

  size_t count = depth < kOptionalDepth ? std::max<size_t>(NaturalCount(name), 1) : 0;
  count = std::max(count, positional);
  count = std::clamp(count, min_items, max_items);
  if (!open) count = std::min(count, positional);

  static const json kAnything = json::object();
  json out = json::array();
  for (size_t i = 0; i < count; ++i) {
    const json& item_schema = i < positional                           ? (*prefix)[i]
                              : items != s.end() && items->is_object() ? *items
                                                                       : kAnything;
    out.push_back(Build(item_schema, name, parent, i, depth + 1));
  }
  return out;
}

std::string_view Builder::TopicSentence(std::string_view topic, size_t ordinal) const {
  if (material_.context == nullptr || topic.empty()) return {};
  const std::vector<uint64_t> terms = ContentTerms(topic);
  if (terms.empty()) return {};
  // The same selection for every ordinal below kNaturalItems, so items do not repeat.
  const std::vector<size_t> best =
      material_.context->Best(terms, std::max(kNaturalItems, ordinal + 1), SIZE_MAX);
  return ordinal < best.size() ? material_.context->sentence(best[ordinal]).text
                               : std::string_view();
}

std::string Builder::Summary() const {
  std::string out;
  if (material_.context != nullptr) {
    for (size_t i : material_.context->Best({}, kNaturalItems, 900)) {
      if (!out.empty()) out += ' ';
      out += Truncate(material_.context->sentence(i).text, 300);
    }
  }
  return out.empty() ? OneLine(material_.objective) : out;
}

std::string Builder::Text(std::string_view name, std::string_view parent, size_t ordinal) {
  const std::string objective = Truncate(OneLine(material_.objective), 200);
  switch (RoleOfName(name)) {
    case NameRole::kIdentifier: {
      std::string slug = Slug(material_.id.empty() ? material_.objective : material_.id);
      return ordinal == 0 ? slug : slug + "-" + std::to_string(ordinal + 1);
    }
    case NameRole::kConstraint:
      if (material_.constraints.empty()) return "No constraints were given.";
      return OneLine(material_.constraints[ordinal % material_.constraints.size()]);
    case NameRole::kTitle:
      if (std::string_view s = TopicSentence(parent, ordinal); !s.empty()) {
        return Truncate(s, 120);
      }
      return objective.empty() ? "Untitled" : objective;
    case NameRole::kSummary:
      if (std::string_view s = TopicSentence(parent, ordinal); !s.empty()) {
        return Truncate(s, 300);
      }
      if (ordinal > 0 && material_.context != nullptr) {
        std::vector<size_t> best =
            material_.context->Best({}, std::max(kNaturalItems, ordinal + 1), SIZE_MAX);
        if (ordinal < best.size())
          return Truncate(material_.context->sentence(best[ordinal]).text, 300);
      }
      return Summary();
    case NameRole::kTopic:
      for (std::string_view topic : {name, parent}) {
        if (std::string_view s = TopicSentence(topic, ordinal); !s.empty()) {
          return Truncate(s, 300);
        }
      }
      break;
  }
  std::string placeholder = "To be completed: " + HumanizeName(name);
  if (ordinal > 0) placeholder += " " + std::to_string(ordinal + 1);
  if (!objective.empty()) placeholder += " for \"" + objective + "\"";
  return placeholder;
}

std::string Builder::BuildString(const json& s, std::string_view name, std::string_view parent,
                                 size_t ordinal) {
  std::string value;
  if (auto it = s.find("format"); it != s.end() && it->is_string()) {
    value = FormatExample(it->get<std::string>());
  }
  if (value.empty()) value = Text(name, parent, ordinal);

  if (auto it = s.find("pattern"); it != s.end() && it->is_string()) {
    try {
      const std::regex re(it->get<std::string>(), std::regex::ECMAScript);
      const std::string candidates[] = {value,
                                        Slug(value),
                                        "offline",
                                        "a",
                                        "A",
                                        "0",
                                        "1",
                                        "2000-01-01",
                                        "offline@example.com",
                                        "https://example.com/",
                                        "AAA",
                                        "000",
                                        ""};
      for (const std::string& candidate : candidates) {
        if (candidate.size() <= 4096 && std::regex_search(candidate, re)) {
          value = candidate;
          break;
        }
      }
    } catch (const std::regex_error&) {
      // An invalid pattern is the brief's problem; ValidateBrief reports it.
    }
  }
  auto limit = [&s](const char* key) {
    auto it = s.find(key);
    return it != s.end() && it->is_number_integer() && it->get<int64_t>() >= 0
               ? static_cast<size_t>(it->get<int64_t>())
               : SIZE_MAX;
  };
  const size_t max_length = limit("maxLength");
  const size_t min_length = limit("minLength") == SIZE_MAX ? 0 : limit("minLength");
  if (CodePoints(value) < min_length) {
    if (!value.empty()) value += ' ';
    while (CodePoints(value) < min_length) value += "(to be completed) ";
  }
  if (CodePoints(value) > max_length)
    value = FirstCodePoints(value, std::max(max_length, min_length));
  return value;
}

}  // namespace

nlohmann::json BuildInstance(const nlohmann::json& schema, const Material& material,
                             const std::string& notice_key, const std::string& notice) {
  Builder builder(schema, material);
  json value = builder.Build(schema, "", "", 0, 0);
  if (!value.is_object() || value.contains(notice_key)) return value;
  // The notice may only go where the top-level schema, through its chain of $refs, admits
  // unknown properties.
  const json* s = &schema;
  for (int hops = 0; s != nullptr && hops < kMaxRefHops; ++hops) {
    if (!s->is_object()) return value;
    for (const char* combinator : {"allOf", "anyOf", "oneOf"}) {
      if (s->contains(combinator)) return value;
    }
    auto additional = s->find("additionalProperties");
    if (additional != s->end() && !(additional->is_boolean() && additional->get<bool>())) {
      return value;
    }
    auto ref = s->find("$ref");
    if (ref == s->end()) {
      value[notice_key] = notice;
      return value;
    }
    s = ref->is_string() ? ResolveRef(schema, ref->get<std::string>()) : nullptr;
  }
  return value;
}

}  // namespace chorus::offline
