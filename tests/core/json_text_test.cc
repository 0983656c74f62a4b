#include "core/json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

namespace chorus {
namespace {

std::string Quoted(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

// What nlohmann::json prints for `text`: the reference the writer must match byte for byte.
std::string Reference(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(JsonText, EscapesWhatJsonRequiresAndNothingElse) {
  EXPECT_EQ(Quoted("plain"), "\"plain\"");
  EXPECT_EQ(Quoted("a\"b\\c\nd\re\tf\bg\fh"), R"("a\"b\\c\nd\re\tf\bg\fh")");
  EXPECT_EQ(Quoted(std::string("\x01\x1f\x7f/", 4)), "\"\\u0001\\u001f\x7f/\"");
  EXPECT_EQ(Quoted(std::string("nul\0here", 8)), "\"nul\\u0000here\"");
  EXPECT_EQ(Quoted("caf\xC3\xA9 \xF0\x9F\x98\x80"), "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"");
}

TEST(JsonText, ReplacesEachMaximalInvalidPartOnce) {
  const std::string kReplacement = "\xEF\xBF\xBD";
  EXPECT_EQ(Quoted("a\xFF"
                   "b"),
            "\"a" + kReplacement + "b\"");
  // A sequence cut short is one replacement; the byte that cut it is read again.
  EXPECT_EQ(Quoted("\xE2\x82"
                   "A"),
            "\"" + kReplacement + "A\"");
  EXPECT_EQ(Quoted("\xE0\x80"), "\"" + kReplacement + kReplacement + "\"");  // overlong
  EXPECT_EQ(Quoted("\xED\xA0\x80"), "\"" + kReplacement + kReplacement + kReplacement + "\"");
  EXPECT_EQ(Quoted("end\xF0\x9F\x98"), "\"end" + kReplacement + "\"");
}

// Byte strings built to hit every path: long ASCII runs (the eight-at-a-time scan), bytes to
// escape, valid sequences of each length, and broken, overlong and surrogate ones.
TEST(JsonText, MatchesNlohmannOnRandomBytes) {
  const std::vector<std::string> pieces = {"abcdefghijklmnop",
                                           "x",
                                           "\"",
                                           "\\",
                                           "\n",
                                           "\x01",
                                           "\x7f",
                                           "\xC3\xA9",
                                           "\xE2\x82\xAC",
                                           "\xF0\x9F\x98\x80",
                                           "\xC3",
                                           "\xE2\x82",
                                           "\xF0\x9F",
                                           "\x80",
                                           "\xBF",
                                           "\xC0\xAF",
                                           "\xE0\x80\x80",
                                           "\xED\xA0\x80",
                                           "\xF4\x90\x80\x80",
                                           "\xF5",
                                           "\xFF",
                                           "\xE0\xA0\x80",
                                           "\xF0\x90\x80\x80"};
  std::mt19937 rng(7);
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1), count(0, 24), byte(0, 255);
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    for (size_t k = count(rng); k > 0; --k) {
      if (k % 5 == 0) {
        text.push_back(static_cast<char>(byte(rng)));  // anything at all
      } else {
        text += pieces[pick(rng)];
      }
    }
    ASSERT_EQ(Quoted(text), Reference(text)) << "round " << round;
  }
}

// Every byte value at every place of a clean string of up to 41 bytes: inside and on the
// edges of the sixteen-byte blocks, of the eight-byte words after them, and in the short tail
// read as a padded word.
TEST(JsonText, FindsEveryByteThatNeedsAttentionWhereverItIs) {
  for (size_t length = 1; length <= 41; ++length) {
    for (size_t at = 0; at < length; ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string text(length, 'a');
        text[at] = static_cast<char>(b);
        ASSERT_EQ(Quoted(text), Reference(text))
            << "byte " << b << " at " << at << " of " << length;
      }
    }
  }
}

// Two bytes that need a look close together, and UTF-8 sequences (valid, cut short or broken)
// that start anywhere, across the end of a block or word too, followed at once by a byte to
// escape: the scan must start again at the right place after each.
TEST(JsonText, StartsAgainInTheRightPlaceAfterEachByteOrSequence) {
  const std::vector<std::string> marks = {
      "\"",       "\n",           "\x01", "\xC3\xA9",   "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
      "\xE2\x82", "\xF0\x9F\x98", "\xFF", "\xC3\xA9\n", "\xE2\x82\n"};
  for (size_t length = 1; length <= 40; ++length) {
    for (size_t at = 0; at < length; ++at) {
      for (const std::string& first : marks) {
        for (const std::string& second : marks) {
          std::string text(length, 'a');
          text.insert(at, first);
          text.insert(std::min(text.size(), at + first.size() + (length % 3)), second);
          ASSERT_EQ(Quoted(text), Reference(text)) << "at " << at << " of " << length;
        }
      }
    }
  }
}

TEST(JsonText, WriterPrintsWhatTheTreePrints) {
  nlohmann::json tree = {{"attempt", 3},
                         {"cost_usd", 0.0},
                         {"price", 1.5e-05},
                         {"big", 12345678.25},
                         {"estimated", false},
                         {"items", {"a", "b\xFF"}},
                         {"nested", {{"empty", nlohmann::json::array()}, {"z", nullptr}}},
                         {"negative", -42},
                         {"text", "line\nnext"}};
  std::string text;
  JsonWriter w(&text);
  w.BeginObject();
  w.Member("attempt", 3);
  w.Key("big");
  w.Double(12345678.25);
  w.Key("cost_usd");
  w.Double(0.0);
  w.Member("estimated", false);
  w.Key("items");
  w.Strings({"a", "b\xFF"});
  w.Key("negative");
  w.Int(-42);
  w.Key("nested");
  w.Json(tree["nested"]);
  w.Key("price");
  w.Double(1.5e-05);
  w.Member("text", "line\nnext");
  w.EndObject();
  EXPECT_EQ(text, tree.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// Member names take a short path when they need no escaping: names beside its limits (32
// bytes), and names that need escaping or are not ASCII, print as nlohmann::json prints them.
TEST(JsonText, WriterPrintsEveryKindOfMemberName) {
  const std::vector<std::string> names = {"",
                                          "a",
                                          std::string(31, 'b'),
                                          std::string(32, 'c'),
                                          std::string(33, 'd'),
                                          "e\"quoted\"",
                                          "f\\slash",
                                          "g\ttab",
                                          "h\xC3\xA9",
                                          "i\xFF",
                                          std::string(40, 'j') + "\n"};
  nlohmann::json tree = nlohmann::json::object();
  for (size_t i = 0; i < names.size(); ++i) tree[names[i]] = static_cast<int>(i);
  std::string text;
  JsonWriter w(&text);
  w.BeginObject();
  for (const auto& [name, value] : tree.items()) w.Member(name, value.get<int>());
  w.EndObject();
  EXPECT_EQ(text, tree.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

TEST(JsonText, WriterSeparatesArrayElementsAndNestedObjects) {
  std::string text;
  JsonWriter w(&text);
  w.BeginArray();
  for (int i = 0; i < 2; ++i) {
    w.BeginObject();
    w.Member("content", "c" + std::to_string(i));
    w.Member("role", "user");
    w.EndObject();
  }
  w.Int(7);
  w.EndArray();
  EXPECT_EQ(text, R"([{"content":"c0","role":"user"},{"content":"c1","role":"user"},7])");
}

#ifndef NDEBUG
TEST(JsonTextDeathTest, WriterRefusesNamesOutOfOrder) {
  EXPECT_DEATH(
      {
        std::string text;
        JsonWriter w(&text);
        w.BeginObject();
        w.Member("text", "t");
        w.Member("attempt", 1);
      },
      "ascend");
}
#endif

}  // namespace
}  // namespace chorus
