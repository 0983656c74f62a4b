// How llm.request events record message contents that repeat. An agent's instructions go out
// with every one of its requests, and a conversation resends its earlier turns each time; so
// every message of a request but its last (the new one) is recorded once per run, as an
// `llm.message` event {"content", "id"}, and named in the request by {"content_id", "role"}.
// A 10,000-agent map then records its instructions once instead of 10,000 times, and a
// conversation's log grows with its turns instead of their square.
//
// The id is a hash of the content, not a counter: a resumed run re-executes requests in
// whatever order their answers allow, and must name each content as the first run did. The
// llm.message event has no step or agent, so the resumed run's first use of a content
// recognises the recorded event whichever step makes it. A run recorded before ids existed is
// resumed with every content inline, as it was written.
//
// Not thread-safe; one per run, used on the scheduler's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "core/hash.h"

namespace chorus {

// Contents shorter than this stay inline: naming them would not save anything.
inline constexpr size_t kNamedContentMinBytes = 64;

class MessageContents {
 public:
  using HashFunction = uint64_t (*)(std::string_view);
  // `hash` makes the ids; a test gives one that collides.
  explicit MessageContents(HashFunction hash = Fnv1a64) : hash_(hash) {}

  struct Name {
    const std::string* id;
    bool first_use;  // not yet recorded by this process: record its llm.message now
  };
  // The id under which `content` is recorded, or nothing when it is to be written inline
  // (too short, names switched off, or its hash taken by another content of the run).
  std::optional<Name> NameOf(std::string_view content);
  // For a run recorded before ids existed.
  void WriteInline() { inline_only_ = true; }

 private:
  struct Entry {
    std::string content;
    std::string id;  // empty: its hash collides with another content's; written inline
  };
  // Keys view the entries' own strings: a deque never moves what it holds.
  std::unordered_map<std::string_view, Entry*> by_content_;
  std::unordered_set<uint64_t> hashes_;  // of the contents named so far
  std::deque<Entry> entries_;
  HashFunction hash_;
  const Entry* last_ = nullptr;  // the usual case: the same agent's instructions again
  bool inline_only_ = false;
};

// Reading side: learns contents from llm.message payloads, in record order, and puts them back
// into the messages of later llm.request payloads (keeping "content_id"). A reference to a
// content it never saw is left as it is.
class NamedContents {
 public:
  void Learn(const nlohmann::json& message_payload);
  void Expand(nlohmann::json& request_payload) const;
  // Learns from an llm.message, expands an llm.request, leaves any other payload alone.
  void Apply(std::string_view kind, nlohmann::json& payload);

 private:
  std::map<std::string, std::string, std::less<>> contents_;
};

}  // namespace chorus
