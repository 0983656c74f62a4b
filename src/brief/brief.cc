// The stable JSON form of a DelegationBrief and the checks made before it is dispatched.
#include "chorus/brief.h"

#include <set>
#include <string_view>

#include "brief/json_schema.h"
#include "brief/markdown_sections.h"
#include "core/json_text.h"

namespace chorus {
namespace {

using nlohmann::json;

std::string_view FormatName(OutputFormat format) {
  switch (format) {
    case OutputFormat::kText:
      return "text";
    case OutputFormat::kMarkdown:
      return "markdown";
    case OutputFormat::kJson:
      return "json";
  }
  return "text";
}

Status WrongType(const std::string& field, std::string_view expected, const json& found) {
  return Status::InvalidArgument("brief." + field + ": expected " + std::string(expected) +
                                 ", found " + JsonTypeName(found));
}

// Reads an optional string field; absent or null leaves `out` unchanged.
Status ReadString(const json& object, const char* key, const std::string& field, std::string* out) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return WrongType(field, "a string", *it);
  *out = it->get<std::string>();
  return Status::Ok();
}

Status ReadStringList(const json& object, const char* key, const std::string& field,
                      std::vector<std::string>* out) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return Status::Ok();
  if (!it->is_array()) return WrongType(field, "a list of strings", *it);
  out->clear();
  out->reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const json& item = (*it)[i];
    if (!item.is_string()) {
      return WrongType(field + "[" + std::to_string(i) + "]", "a string", item);
    }
    out->push_back(item.get<std::string>());
  }
  return Status::Ok();
}

Status ReadOutput(const json& j, ExpectedOutput* out) {
  if (!j.is_object()) return WrongType("output", "an object", j);
  if (auto it = j.find("format"); it != j.end() && !it->is_null()) {
    if (!it->is_string())
      return WrongType("output.format", "\"text\", \"markdown\" or \"json\"", *it);
    const std::string& name = it->get_ref<const std::string&>();
    if (name == "text") {
      out->format = OutputFormat::kText;
    } else if (name == "markdown") {
      out->format = OutputFormat::kMarkdown;
    } else if (name == "json") {
      out->format = OutputFormat::kJson;
    } else {
      return Status::InvalidArgument(
          "brief.output.format: expected \"text\", \"markdown\" or \"json\", found " +
          DumpForMessage(*it));
    }
  }
  if (Status s = ReadStringList(j, "sections", "output.sections", &out->sections); !s.ok()) {
    return s;
  }
  if (auto it = j.find("schema"); it != j.end()) out->schema = *it;
  return ReadString(j, "description", "output.description", &out->description);
}

std::string Where(const DelegationBrief& brief) {
  return brief.id.empty() ? "brief" : "brief '" + brief.id + "'";
}

}  // namespace

nlohmann::json DelegationBrief::ToJson() const {
  return json{{"id", id},
              {"objective", objective},
              {"context", context},
              {"constraints", constraints},
              {"output",
               {{"format", FormatName(output.format)},
                {"sections", output.sections},
                {"schema", output.schema},
                {"description", output.description}}},
              {"acceptance", acceptance}};
}

std::string DelegationBrief::ToJsonText() const {
  std::string out;
  out.reserve(objective.size() + acceptance.size() + 192);
  JsonWriter w(&out);
  w.BeginObject();
  w.Member("acceptance", acceptance);
  w.Key("constraints");
  w.Strings(constraints);
  w.Key("context");
  w.Strings(context);
  w.Member("id", id);
  w.Member("objective", objective);
  w.Key("output");
  w.BeginObject();
  w.Member("description", output.description);
  w.Member("format", FormatName(output.format));
  w.Key("schema");
  w.Json(output.schema);
  w.Key("sections");
  w.Strings(output.sections);
  w.EndObject();
  w.EndObject();
  return out;
}

Result<DelegationBrief> DelegationBrief::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) {
    return Err(Status::InvalidArgument(std::string("brief: expected an object, found ") +
                                       JsonTypeName(j)));
  }
  DelegationBrief brief;
  Status s = ReadString(j, "id", "id", &brief.id);
  if (s.ok()) s = ReadString(j, "objective", "objective", &brief.objective);
  if (s.ok()) s = ReadStringList(j, "context", "context", &brief.context);
  if (s.ok()) s = ReadStringList(j, "constraints", "constraints", &brief.constraints);
  if (s.ok()) {
    if (auto it = j.find("output"); it != j.end() && !it->is_null()) {
      s = ReadOutput(*it, &brief.output);
    }
  }
  if (s.ok()) s = ReadString(j, "acceptance", "acceptance", &brief.acceptance);
  if (!s.ok()) return Err(std::move(s));
  return brief;
}

Status ValidateBrief(const DelegationBrief& brief) {
  if (TrimWhitespace(brief.objective).empty()) {
    return Status::InvalidArgument(Where(brief) +
                                   ": objective: expected a non-blank objective, "
                                   "found " +
                                   DumpForMessage(json(brief.objective)));
  }
  const json& schema = brief.output.schema;
  if (!schema.is_null()) {
    if (!schema.is_object()) {
      return Status::InvalidArgument(Where(brief) +
                                     ": output.schema: expected a JSON Schema object or null, "
                                     "found " +
                                     DumpForMessage(schema));
    }
    if (Status s = CheckJsonSchema(schema); !s.ok()) {
      return Status::InvalidArgument(Where(brief) + ": output." + s.message());
    }
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < brief.output.sections.size(); ++i) {
    const std::string& name = brief.output.sections[i];
    const std::string field = "output.sections[" + std::to_string(i) + "]";
    const std::string key = NormalizeHeading(name);
    if (key.empty() || name.find('\n') != std::string::npos) {
      return Status::InvalidArgument(Where(brief) + ": " + field +
                                     ": expected a non-empty, single-line section name, found " +
                                     DumpForMessage(json(name)));
    }
    if (!seen.insert(key).second) {
      return Status::InvalidArgument(Where(brief) + ": " + field + ": expected unique section " +
                                     "names, found '" + name + "' twice");
    }
  }
  return Status::Ok();
}

}  // namespace chorus
