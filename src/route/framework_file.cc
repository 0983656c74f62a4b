#include "route/framework_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

namespace chorus::route {
namespace {

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    default:
      return "nothing";
  }
}

// Collects located errors for one file.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  std::string Where(const YAML::Mark& mark) const {
    if (mark.line < 0) return file_;
    return file_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }
  std::string Where(const YAML::Node& node) const { return Where(node.Mark()); }
  void Error(const YAML::Mark& mark, const std::string& message) {
    errors_.push_back({mark.line, mark.column, Where(mark) + ": " + message});
  }
  void Error(const YAML::Node& node, const std::string& message) { Error(node.Mark(), message); }

  // The value of every key of `map` in `allowed`, reporting a non-mapping, non-string keys,
  // duplicates, unknown keys and missing `required` keys (at `map`, in `where`).
  std::map<std::string, YAML::Node> Fields(const YAML::Node& map, std::string_view where,
                                           const std::vector<std::string>& allowed,
                                           const std::vector<std::string>& required) {
    std::map<std::string, YAML::Node> fields;
    if (!map.IsMap()) {
      Error(map, "expected " + std::string(where) + " to be a mapping, found " + Describe(map));
      return fields;
    }
    for (const auto& kv : map) {
      if (!kv.first.IsScalar()) {
        Error(kv.first,
              "expected a key in " + std::string(where) + ", found " + Describe(kv.first));
        continue;
      }
      const std::string& key = kv.first.Scalar();
      bool known = false;
      for (const std::string& a : allowed) known = known || a == key;
      if (!known) {
        std::string list;
        for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
        Error(kv.first, "unknown key '" + key + "' in " + std::string(where) +
                            " (expected one of " + list + ")");
        continue;
      }
      if (!fields.emplace(key, kv.second).second) {
        Error(kv.first, "duplicate key '" + key + "' in " + std::string(where));
      }
    }
    for (const std::string& r : required) {
      if (!fields.count(r)) Error(map, "missing key '" + r + "' in " + std::string(where));
    }
    return fields;
  }

  // A non-empty single-line-or-paragraph string.
  std::string Text(const YAML::Node& node, std::string_view what) {
    if (!node.IsScalar() || node.Scalar().find_first_not_of(" \t\r\n") == std::string::npos) {
      Error(node,
            "expected " + std::string(what) + " to be non-empty text, found " + Describe(node));
      return {};
    }
    std::string s = node.Scalar();
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }

  std::vector<std::string> TextList(const YAML::Node& node, std::string_view what) {
    std::vector<std::string> out;
    if (!node.IsSequence() || node.size() == 0) {
      Error(node, "expected " + std::string(what) + " to be a non-empty list of text, found " +
                      Describe(node));
      return out;
    }
    for (const YAML::Node& item : node) {
      std::string s = Text(item, std::string("each of ") + std::string(what));
      if (!s.empty()) out.push_back(std::move(s));
    }
    return out;
  }

  // YAML as JSON: plain scalars typed as YAML 1.2 core (null, bool, int, float), quoted ones
  // stay strings.
  nlohmann::json Json(const YAML::Node& node, int depth = 0) {
    if (depth > 64) {
      Error(node, "expected a JSON Schema nested at most 64 deep");
      return nullptr;
    }
    if (node.IsMap()) {
      nlohmann::json j = nlohmann::json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          Error(kv.first, "expected a string key in the schema, found " + Describe(kv.first));
          continue;
        }
        if (j.contains(kv.first.Scalar())) {
          Error(kv.first, "duplicate key '" + kv.first.Scalar() + "' in the schema");
        }
        j[kv.first.Scalar()] = Json(kv.second, depth + 1);
      }
      return j;
    }
    if (node.IsSequence()) {
      nlohmann::json j = nlohmann::json::array();
      for (const YAML::Node& item : node) j.push_back(Json(item, depth + 1));
      return j;
    }
    if (!node.IsScalar()) return nullptr;
    const std::string& s = node.Scalar();
    if (node.Tag() != "?") return s;  // quoted: a string whatever it looks like
    if (s == "null" || s == "~" || s.empty()) return nullptr;
    if (s == "true") return true;
    if (s == "false") return false;
    char* end = nullptr;
    long long i = std::strtoll(s.c_str(), &end, 10);
    if (end && *end == '\0') return i;
    double d = std::strtod(s.c_str(), &end);
    if (end && *end == '\0' && std::isfinite(d)) return d;
    return s;
  }

  ExpectedOutput Output(const YAML::Node& node, const std::string& id) {
    ExpectedOutput out;
    std::string where = "the output of " + id;
    auto f = Fields(node, where, {"format", "sections", "schema", "description"}, {"format"});
    if (!f.count("format")) return out;
    std::string format = f["format"].IsScalar() ? f["format"].Scalar() : "";
    if (format == "markdown") {
      out.format = OutputFormat::kMarkdown;
      if (!f.count("sections")) {
        Error(node, "missing key 'sections' in " + where + " (format markdown)");
      } else {
        out.sections = TextList(f["sections"], "the sections");
        std::set<std::string> seen;
        for (const std::string& s : out.sections) {
          if (!seen.insert(s).second) {
            Error(f["sections"], "duplicate section '" + s + "' in " + where);
          }
        }
      }
      if (f.count("schema")) Error(f["schema"], "a markdown output takes sections, not a schema");
    } else if (format == "json") {
      out.format = OutputFormat::kJson;
      if (!f.count("schema")) {
        Error(node, "missing key 'schema' in " + where + " (format json)");
      } else {
        out.schema = Json(f["schema"]);
        if (!out.schema.is_object() || !out.schema.contains("type")) {
          Error(f["schema"], "expected the schema of " + id +
                                 " to be a mapping with a 'type', found " + Describe(f["schema"]));
        }
      }
      if (f.count("sections")) Error(f["sections"], "a json output takes a schema, not sections");
    } else {
      Error(f["format"], "expected format 'markdown' or 'json', found " + Describe(f["format"]));
    }
    if (f.count("description")) out.description = Text(f["description"], "the description");
    return out;
  }

  // In file order, whatever order the checks ran in.
  std::vector<std::string> TakeErrors() {
    std::stable_sort(errors_.begin(), errors_.end(), [](const Located& a, const Located& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    std::vector<std::string> out;
    for (Located& e : errors_) out.push_back(std::move(e.message));
    errors_.clear();
    return out;
  }
  const std::string& file() const { return file_; }

 private:
  struct Located {
    int line;
    int column;
    std::string message;
  };
  std::string file_;
  std::vector<Located> errors_;
};

// "1.2" is the parent of "1.2.7".
bool IsChildId(const std::string& parent, const std::string& child) {
  return child.size() > parent.size() + 1 && child.compare(0, parent.size(), parent) == 0 &&
         child[parent.size()] == '.' && child.find('.', parent.size() + 1) == std::string::npos;
}

bool IsNumber(std::string_view s) {
  if (s.empty() || s.size() > 4 || s[0] == '0') return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsIdOfParts(const std::string& id, int parts) {
  size_t start = 0;
  for (int i = 0; i < parts; ++i) {
    size_t dot = id.find('.', start);
    bool last = i == parts - 1;
    if (last != (dot == std::string::npos)) return false;
    size_t end = last ? id.size() : dot;
    if (!IsNumber(std::string_view(id).substr(start, end - start))) return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

bool IsFrameworkId(const std::string& id) { return IsIdOfParts(id, 3); }

FrameworkFile ParseFrameworkFile(const std::string& text, const std::string& file) {
  FrameworkFile result;
  Reader r(file);
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    r.Error(e.mark, "invalid YAML: " + e.msg);
    result.errors = r.TakeErrors();
    return result;
  }
  auto top = r.Fields(doc, "a framework file", {"meta_category", "categories"},
                      {"meta_category", "categories"});
  if (top.size() != 2) {
    result.errors = r.TakeErrors();
    return result;
  }
  auto meta = r.Fields(top["meta_category"], "meta_category", {"id", "name"}, {"id", "name"});
  std::string meta_id = meta.count("id") ? r.Text(meta["id"], "the meta-category id") : "";
  std::string meta_name = meta.count("name") ? r.Text(meta["name"], "the meta-category name") : "";
  if (!meta_id.empty() && !IsIdOfParts(meta_id, 1)) {
    r.Error(meta["id"], "expected a meta-category id such as '2', found '" + meta_id + "'");
  }
  const YAML::Node& categories = top["categories"];
  if (!categories.IsSequence()) {
    r.Error(categories, "expected categories to be a list, found " + Describe(categories));
    result.errors = r.TakeErrors();
    return result;
  }
  for (const YAML::Node& cat_node : categories) {
    auto cat = r.Fields(cat_node, "a category", {"id", "name", "frameworks"},
                        {"id", "name", "frameworks"});
    if (cat.size() != 3) continue;
    std::string cat_id = r.Text(cat["id"], "the category id");
    std::string cat_name = r.Text(cat["name"], "the category name");
    if (!cat_id.empty() && (!IsIdOfParts(cat_id, 2) || !IsChildId(meta_id, cat_id))) {
      r.Error(cat["id"], "expected a category id of meta-category " + meta_id + " such as '" +
                             meta_id + ".1', found '" + cat_id + "'");
    }
    const YAML::Node& list = cat["frameworks"];
    if (!list.IsSequence()) {
      r.Error(list, "expected the frameworks of category " + cat_id + " to be a list, found " +
                        Describe(list));
      continue;
    }
    for (const YAML::Node& node : list) {
      auto f =
          r.Fields(node, "a framework",
                   {"id", "name", "summary", "triggers", "examples", "instructions", "output"},
                   {"id", "name", "summary", "triggers", "examples", "instructions", "output"});
      if (f.size() != 7) continue;
      Framework fw;
      fw.id = r.Text(f["id"], "the framework id");
      if (!fw.id.empty() && (!IsFrameworkId(fw.id) || !IsChildId(cat_id, fw.id))) {
        r.Error(f["id"], "expected a framework id of category " + cat_id + " such as '" + cat_id +
                             ".1', found '" + fw.id + "'");
      }
      fw.name = r.Text(f["name"], "the name of " + fw.id);
      fw.meta_category = meta_name;
      fw.category = cat_name;
      fw.summary = r.Text(f["summary"], "the summary of " + fw.id);
      fw.triggers = r.TextList(f["triggers"], "the triggers of " + fw.id);
      fw.examples = r.TextList(f["examples"], "the examples of " + fw.id);
      fw.instructions = r.TextList(f["instructions"], "the instructions of " + fw.id);
      fw.output = r.Output(f["output"], fw.id);
      fw.source = r.Where(node);
      result.frameworks.push_back(std::move(fw));
    }
  }
  result.errors = r.TakeErrors();
  return result;
}

}  // namespace chorus::route
