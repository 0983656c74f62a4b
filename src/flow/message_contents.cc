#include "flow/message_contents.h"

#include <cstdio>

namespace chorus {

std::optional<MessageContents::Name> MessageContents::NameOf(std::string_view content) {
  if (inline_only_ || content.size() < kNamedContentMinBytes) return std::nullopt;
  const Entry* entry = last_;
  bool first_use = false;
  if (entry == nullptr || entry->content != content) {
    auto found = by_content_.find(content);
    if (found != by_content_.end()) {
      entry = found->second;
    } else {
      Entry& added = entries_.emplace_back();
      added.content = std::string(content);
      const uint64_t hash = hash_(content);
      // Two contents of one run with the same hash: the second stays inline, never misnamed.
      if (hashes_.insert(hash).second) {
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
        added.id = hex;
      }
      by_content_.emplace(added.content, &added);
      entry = &added;
      first_use = true;
    }
  }
  last_ = entry;
  if (entry->id.empty()) return std::nullopt;
  return Name{&entry->id, first_use};
}

void NamedContents::Learn(const nlohmann::json& payload) {
  auto id = payload.find("id");
  auto content = payload.find("content");
  if (id == payload.end() || content == payload.end() || !id->is_string() ||
      !content->is_string()) {
    return;
  }
  contents_.emplace(id->get<std::string>(), content->get<std::string>());
}

void NamedContents::Expand(nlohmann::json& payload) const {
  auto messages = payload.find("messages");
  if (messages == payload.end() || !messages->is_array()) return;
  for (nlohmann::json& m : *messages) {
    if (!m.is_object()) continue;
    auto id = m.find("content_id");
    if (id == m.end() || !id->is_string() || m.contains("content")) continue;
    auto content = contents_.find(id->get_ref<const std::string&>());
    if (content != contents_.end()) m["content"] = content->second;
  }
}

void NamedContents::Apply(std::string_view kind, nlohmann::json& payload) {
  if (!payload.is_object()) return;
  if (kind == "llm.message") Learn(payload);
  if (kind == "llm.request") Expand(payload);
}

}  // namespace chorus
