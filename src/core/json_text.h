// JSON text written straight into a buffer, without building an nlohmann::json tree first:
// request bodies and the events a run records most are written this way, so each string is
// copied once and nothing is allocated per value.
//
// What JsonWriter writes is byte-for-byte what nlohmann::json::dump() prints for the same
// document (with invalid UTF-8 replaced): the events a resumed run re-derives are recognised
// by their text, whichever of the two wrote them. Pure; a JsonWriter is used by one thread.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace chorus {

// Appends `text` as a quoted JSON string. Each invalid UTF-8 sequence (its maximal invalid
// part, as nlohmann::json counts it) becomes U+FFFD: servers reject bodies that are not UTF-8,
// and one bad byte in a model's answer must not poison a conversation or the record.
void AppendJsonString(std::string& out, std::string_view text);

// Appends a JSON number with the shortest representation that round-trips (request bodies).
void AppendJsonNumber(std::string& out, double value);

// An object member's name. A string literal is checked as the program compiles, and one
// that needs no escaping (nearly all: a step's events write about thirty) is then written
// without being scanned; any other name is escaped like a string value.
class MemberName {
 public:
  template <size_t N>
  consteval MemberName(const char (&literal)[N])  // NOLINT: literals convert implicitly
      : text_(literal, N - 1), plain_(IsPlain(text_)) {}
  MemberName(std::string_view text) : text_(text) {}    // NOLINT: so do run-time names
  MemberName(const std::string& text) : text_(text) {}  // NOLINT

  std::string_view text() const { return text_; }
  bool plain() const { return plain_; }

 private:
  static constexpr bool IsPlain(std::string_view text) {
    for (char c : text) {
      const auto b = static_cast<unsigned char>(c);
      if (b < 0x20 || b >= 0x80 || c == '"' || c == '\\') return false;
    }
    return true;
  }

  std::string_view text_;
  bool plain_ = false;
};

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  // An object member's name. Names must come in byte-wise ascending order, the order
  // nlohmann::json prints them in (checked in debug builds).
  void Key(MemberName name);

  void String(std::string_view text);
  void Int(int64_t value);
  void Bool(bool value);
  void Double(double value);               // as nlohmann::json prints it: 0.0, 1.5e-05
  void Json(const nlohmann::json& value);  // a rare or irregular value: a schema, a verdict
  void Strings(const std::vector<std::string>& items);

  void Member(MemberName name, std::string_view text) {
    Key(name);
    String(text);
  }
  void Member(MemberName name, const char* text) { Member(name, std::string_view(text)); }
  void Member(MemberName name, const std::string& text) { Member(name, std::string_view(text)); }
  void Member(MemberName name, int64_t value) {
    Key(name);
    Int(value);
  }
  void Member(MemberName name, int value) { Member(name, int64_t{value}); }
  void Member(MemberName name, bool value) {
    Key(name);
    Bool(value);
  }

 private:
  void BeforeValue();

  std::string* out_;
  bool need_comma_ = false;
#ifndef NDEBUG
  std::vector<std::string> last_keys_;  // per open object: the names must ascend
#endif
};

}  // namespace chorus
