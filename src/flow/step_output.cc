#include "flow/step_output.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

namespace chorus {
namespace {

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string AsText(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string YamlNodeText(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

}  // namespace

void AppendMapItem(std::string* out, size_t index, std::string_view label, std::string_view text) {
  std::string shown(label.substr(0, label.size() > 80 ? 77 : label.size()));
  if (label.size() > 80) shown += "...";
  for (char& c : shown) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  *out += "### Item ";
  *out += std::to_string(index + 1);
  *out += ": ";
  *out += shown;
  *out += "\n\n";
  *out += text;
}

StepOutput CombineMapOutputs(const std::vector<std::string>& labels,
                             const std::vector<const StepOutput*>& items) {
  StepOutput out;
  out.json = nlohmann::json::array();
  size_t bytes = 0;
  for (const StepOutput* item : items) bytes += item->text.size() + 128;
  out.text.reserve(bytes);
  for (size_t i = 0; i < items.size(); ++i) {
    const StepOutput& item = *items[i];
    if (i > 0) out.text += "\n\n";
    AppendMapItem(&out.text, i, i < labels.size() ? labels[i] : std::string_view(), item.text);
    out.json.push_back(item.json.is_null() ? nlohmann::json(item.text) : item.json);
    out.sensitivity = std::max(out.sensitivity, item.sensitivity);
  }
  return out;
}

Result<std::string> SelectField(const std::string& step, const StepOutput& output,
                                const std::string& field) {
  const nlohmann::json& value = output.json;
  if (field == "json") return AsText(value.is_null() ? nlohmann::json(output.text) : value);
  if (field == "text") return output.text;
  if (value.is_object()) {
    if (auto it = value.find(field); it != value.end()) return AsText(*it);
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (EqualsIgnoreCase(it.key(), field)) return AsText(it.value());
    }
  } else if (value.is_array() && !field.empty() &&
             std::all_of(field.begin(), field.end(), [](char c) { return std::isdigit(c); })) {
    size_t index = std::stoul(field);
    if (index < value.size()) return AsText(value[index]);
    return Err(Status::NotFound("${" + step + "." + field + "}: step '" + step + "' has " +
                                std::to_string(value.size()) + " items (indices start at 0)"));
  }
  std::string have;
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      have += (have.empty() ? "" : ", ") + std::string("'") + it.key() + "'";
    }
  }
  return Err(Status::NotFound(
      "${" + step + "." + field + "}: the output of step '" + step + "' has no field '" + field +
      "'" + (have.empty() ? std::string(" (it is not a JSON object)") : "; it has " + have)));
}

Result<std::vector<std::string>> SplitItems(const std::string& text) {
  std::string trimmed = Trim(text);
  std::vector<std::string> items;
  if (!trimmed.empty() && trimmed.front() == '[') {
    auto parsed = nlohmann::json::parse(trimmed, nullptr, false);
    if (!parsed.is_discarded() && parsed.is_array()) {
      for (const auto& v : parsed) items.push_back(AsText(v));
      return items;
    }
  }
  if (trimmed.rfind("- ", 0) == 0 || trimmed == "-") {
    try {
      YAML::Node node = YAML::Load(trimmed);
      if (node.IsSequence()) {
        for (const auto& v : node) items.push_back(YamlNodeText(v));
        return items;
      }
    } catch (const YAML::Exception& e) {
      return Err(Status::InvalidArgument("the items look like a YAML list but do not parse: " +
                                         std::string(e.what())));
    }
  }
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = Trim(std::string_view(text).substr(pos, nl - pos));
    if (!line.empty()) items.push_back(std::move(line));
    pos = nl + 1;
  }
  return items;
}

}  // namespace chorus
