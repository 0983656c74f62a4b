// Tokenizer: id-for-id agreement with tiktoken on the golden vectors gpt-tokenizer ships, round
// trips on arbitrary bytes, special tokens and the loader's errors.
#include "chorus/tokenizer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "model/tokenizer_bpe.h"
#include "model/tokenizer_ranks.h"
#include "model/tokenizer_split.h"

namespace chorus {
namespace {

struct GoldenCase {
  std::string encoding;
  std::string sample;
  std::vector<uint32_t> tokens;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<uint32_t> ParseIds(std::string_view list) {
  std::vector<uint32_t> ids;
  uint32_t value = 0;
  bool in_number = false;
  for (const char c : list) {
    if (c >= '0' && c <= '9') {
      value = value * 10 + static_cast<uint32_t>(c - '0');
      in_number = true;
    } else if (in_number) {
      ids.push_back(value);
      value = 0;
      in_number = false;
    }
  }
  return ids;
}

// TestPlans.txt: blocks of "EncodingName: x", "Sample: text", "Encoded: [ids]", blank-separated.
std::vector<GoldenCase> LoadGolden(std::string_view encoding) {
  const std::string text = ReadFile(TokenizerDataDir() + "/TestPlans.txt");
  std::vector<GoldenCase> cases;
  std::istringstream lines(text);
  std::string line;
  GoldenCase current;
  while (std::getline(lines, line)) {
    if (line.rfind("EncodingName: ", 0) == 0) {
      current = GoldenCase{line.substr(14), "", {}};
    } else if (line.rfind("Sample:", 0) == 0) {
      current.sample = line.size() > 8 ? line.substr(8) : "";
    } else if (line.rfind("Encoded:", 0) == 0) {
      current.tokens = ParseIds(line.substr(8));
      if (current.encoding == encoding) cases.push_back(current);
    }
  }
  return cases;
}

const Tokenizer& Get(std::string_view name) {
  auto tokenizer = GetTokenizer(name);
  if (!tokenizer) {
    ADD_FAILURE() << tokenizer.error().ToString();
    std::abort();
  }
  return **tokenizer;
}

class EncodingTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EncodingTest, MatchesEveryGoldenVectorOfTheEncoding) {
  const Tokenizer& tok = Get(GetParam());
  const auto cases = LoadGolden(GetParam());
  ASSERT_GE(cases.size(), 50u) << "TestPlans.txt in " << TokenizerDataDir();
  for (const GoldenCase& c : cases) {
    EXPECT_EQ(tok.Encode(c.sample), c.tokens) << "sample: " << c.sample;
    EXPECT_EQ(tok.Count(c.sample), c.tokens.size()) << "sample: " << c.sample;
    EXPECT_EQ(tok.Decode(c.tokens), c.sample);
  }
}

TEST_P(EncodingTest, RoundTripsRandomUtf8) {
  const Tokenizer& tok = Get(GetParam());
  std::mt19937 rng(7);
  // Code points drawn from blocks that exercise each regex branch: ASCII, whitespace incl.
  // U+0085/U+00A0/U+3000, Latin-1, combining marks, CJK, Devanagari, emoji.
  const std::vector<std::pair<uint32_t, uint32_t>> blocks = {
      {0x20, 0x7E},   {0x09, 0x0D},       {0x80, 0xFF},     {0x300, 0x36F},   {0x4E00, 0x4E80},
      {0x900, 0x97F}, {0x1F600, 0x1F64F}, {0x2000, 0x200F}, {0x3000, 0x3003}, {0x17F, 0x17F}};
  for (int round = 0; round < 300; ++round) {
    std::string text;
    const int length = static_cast<int>(rng() % 60);
    for (int k = 0; k < length; ++k) {
      const auto& [lo, hi] = blocks[rng() % blocks.size()];
      const uint32_t cp = lo + rng() % (hi - lo + 1);
      if (cp < 0x80) {
        text += static_cast<char>(cp);
      } else if (cp < 0x800) {
        text += static_cast<char>(0xC0 | (cp >> 6));
        text += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        text += static_cast<char>(0xE0 | (cp >> 12));
        text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        text += static_cast<char>(0xF0 | (cp >> 18));
        text += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        text += static_cast<char>(0x80 | (cp & 0x3F));
      }
    }
    const auto ids = tok.Encode(text);
    ASSERT_EQ(tok.Decode(ids), text);
    ASSERT_EQ(tok.Count(text), ids.size());
  }
}

TEST_P(EncodingTest, RoundTripsInvalidBytes) {
  const Tokenizer& tok = Get(GetParam());
  std::mt19937 rng(11);
  for (int round = 0; round < 300; ++round) {
    std::string text(rng() % 80, '\0');
    for (char& c : text) c = static_cast<char>(rng() % 256);
    const auto ids = tok.Encode(text);
    ASSERT_EQ(tok.Decode(ids), text);
    ASSERT_EQ(tok.Count(text), ids.size());
  }
  // Truncated, overlong and surrogate sequences next to valid text.
  for (const std::string& text :
       {std::string("abc\xE6\x97"), std::string("\xC0\xAF hi"), std::string("x\xED\xA0\x80y"),
        std::string("\xF4\x90\x80\x80 \xFF\xFE"), std::string("caf\xC3")}) {
    EXPECT_EQ(tok.Decode(tok.Encode(text)), text);
  }
}

TEST_P(EncodingTest, LongRunsEncodeAndRoundTrip) {
  const Tokenizer& tok = Get(GetParam());
  for (const std::string& text :
       {std::string(1 << 18, ' '), std::string(1 << 18, 'a'), std::string(100000, '\n'),
        std::string(300, '!') + std::string(100000, ' ') + "x"}) {
    const auto ids = tok.Encode(text);
    EXPECT_LT(ids.size(), text.size() / 2) << "a run of one character compresses";
    EXPECT_EQ(tok.Decode(ids), text);
  }
}

TEST_P(EncodingTest, SpecialTokensArePlainTextUnlessAllowed) {
  const Tokenizer& tok = Get(GetParam());
  const uint32_t eot = GetParam() == "cl100k_base" ? 100257 : 199999;
  const std::string text = "a<|endoftext|>b";
  const auto plain = tok.Encode(text);
  EXPECT_EQ(std::find(plain.begin(), plain.end(), eot), plain.end());
  EXPECT_GT(plain.size(), 3u);
  const auto allowed = tok.EncodeAllowingSpecial(text);
  ASSERT_EQ(allowed.size(), 3u);
  EXPECT_EQ(allowed[1], eot);
  EXPECT_EQ(tok.Decode(allowed), text);
  EXPECT_EQ(tok.Decode(plain), text);
}

TEST_P(EncodingTest, DecodeSkipsIdsOutsideTheVocabulary) {
  const Tokenizer& tok = Get(GetParam());
  const std::vector<uint32_t> ids = {tok.Encode("hi")[0], 4000000000u, 250000};
  EXPECT_EQ(tok.Decode(ids), "hi");
}

TEST_P(EncodingTest, ConcurrentUseGivesTheSameTokens) {
  const Tokenizer& tok = Get(GetParam());
  const std::string text = "Concurrent counting:\n  for (int i = 0; i < n; ++i) sum += 東京[i];\n";
  const auto expected = tok.Encode(text);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 200; ++k) {
        if (tok.Encode(text) != expected || tok.Count(text) != expected.size()) ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

INSTANTIATE_TEST_SUITE_P(Encodings, EncodingTest, ::testing::Values("cl100k_base", "o200k_base"));

// Whitespace, newlines, contractions and code are missing from TestPlans.txt; these ids come
// from gpt-tokenizer 4.0.0 (node: require("gpt-tokenizer/cjs/encoding/<name>").encode(text)).
TEST(TokenizerTest, MatchesReferenceOnWhitespaceAndCode) {
  struct Case {
    std::string text;
    std::vector<uint32_t> cl100k;
    std::vector<uint32_t> o200k;
  };
  const std::vector<Case> cases = {
      {"hello world", {15339, 1917}, {24912, 2375}},
      {"\n\n  foo\n", {271, 220, 15586, 198}, {279, 220, 30551, 198}},
      {"    return x;\n}\n", {262, 471, 865, 280, 534}, {271, 622, 1215, 307, 739}},
      {"I'm HERE, you'RE", {40, 2846, 19804, 11, 499, 95253}, {15390, 32396, 11, 481, 6, 1099}},
      {"Hello   world  ", {9906, 256, 1917, 256}, {13225, 256, 2375, 256}},
      {"a\r\nb\r\n\r\n", {64, 319, 65, 881}, {64, 370, 65, 1414}},
      {"x = [1, 2, 3]\t# comment\n",
       {87, 284, 510, 16, 11, 220, 17, 11, 220, 18, 60, 197, 2, 4068, 198},
       {87, 314, 723, 16, 11, 220, 17, 11, 220, 18, 60, 197, 2, 5375, 198}},
      {"CamelCaseWord and snake_case_word",
       {26479, 301, 4301, 11116, 323, 26332, 19640, 13843},
       {137910, 6187, 12929, 326, 46964, 43667, 32074}},
      {"12345678 and 3.14159",
       {4513, 10961, 2495, 323, 220, 18, 13, 9335, 2946},
       {7633, 19354, 4388, 326, 220, 18, 13, 16926, 4621}},
      {"  \n  \n", {31879}, {59384}},
      {"https://example.com/a/b?c=1",
       {2485, 1129, 8858, 916, 14520, 3554, 30, 66, 28, 16},
       {4172, 1684, 18582, 1136, 23839, 7611, 30, 66, 28, 16}},
      {"émigré naïve 東京タワー",
       {17060, 5346, 978, 95980, 588, 61696, 109, 47653, 47307, 2845, 107, 11972},
       {4135, 5213, 377, 153475, 737, 185244, 12288, 34022, 3022}},
  };
  const Tokenizer& cl = Get("cl100k_base");
  const Tokenizer& o2 = Get("o200k_base");
  for (const Case& c : cases) {
    EXPECT_EQ(cl.Encode(c.text), c.cl100k) << c.text;
    EXPECT_EQ(o2.Encode(c.text), c.o200k) << c.text;
  }
}

TEST(TokenizerTest, SameInstanceEveryCallAndUnknownNameIsNotFound) {
  auto a = GetTokenizer("cl100k_base");
  auto b = GetTokenizer("cl100k_base");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ((*a)->name(), "cl100k_base");
  auto unknown = GetTokenizer("p50k_base");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.error().message().find("p50k_base"), std::string::npos);
}

TEST(TokenizerTest, DataDirectoryFollowsTheEnvironment) {
  const std::string compiled = TokenizerDataDir();
  ::setenv("CHORUS_TOKENIZER_DATA", "/tmp/elsewhere", 1);
  EXPECT_EQ(TokenizerDataDir(), "/tmp/elsewhere");
  ::setenv("CHORUS_TOKENIZER_DATA", "", 1);
  EXPECT_EQ(TokenizerDataDir(), compiled);
  ::unsetenv("CHORUS_TOKENIZER_DATA");
}

TEST(RankTableTest, RejectsMalformedFilesNamingTheLine) {
  using tokenizer::RankTable;
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) {
    static const char* kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    all_bytes +=
        std::string(1, kB64[b >> 2]) + kB64[(b & 3) << 4] + "== " + std::to_string(b) + "\n";
  }
  ASSERT_TRUE(RankTable::Parse(all_bytes, "ok.tiktoken"));
  auto bad_base64 = RankTable::Parse(all_bytes + "a$== 300\n", "f.tiktoken");
  ASSERT_FALSE(bad_base64);
  EXPECT_EQ(bad_base64.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad_base64.error().message().find("f.tiktoken:257"), std::string::npos);
  auto bad_rank = RankTable::Parse(all_bytes + "aGk= x\n", "f.tiktoken");
  ASSERT_FALSE(bad_rank);
  EXPECT_NE(bad_rank.error().message().find("decimal rank"), std::string::npos);
  EXPECT_FALSE(RankTable::Parse(all_bytes + "aGk= 5\n", "dup-rank"));
  EXPECT_FALSE(RankTable::Parse(all_bytes + "QQ== 300\n", "dup-bytes"));
  EXPECT_FALSE(RankTable::Parse("QQ== 0\n", "missing-bytes"));
  EXPECT_FALSE(RankTable::Parse("", "empty"));
}

TEST(BytePairTest, ScanAndHeapAgreeOnRandomPieces) {
  const std::string path = TokenizerDataDir() + "/cl100k_base.tiktoken";
  auto ranks = tokenizer::RankTable::Parse(ReadFile(path), path);
  ASSERT_TRUE(ranks) << ranks.error().ToString();
  std::mt19937 rng(3);
  const std::string alphabet = "aaabbbeeeinnorsttt  __..\xC3\xA9\xE6\x97\xA5";
  for (int round = 0; round < 500; ++round) {
    std::string piece(1 + rng() % 120, ' ');
    for (char& c : piece) c = alphabet[rng() % alphabet.size()];
    std::vector<uint32_t> by_scan, by_heap;
    tokenizer::BytePairEncodeByScan(*ranks, piece, &by_scan);
    tokenizer::BytePairEncodeByHeap(*ranks, piece, &by_heap);
    ASSERT_EQ(by_scan, by_heap) << piece;
  }
}

TEST(SplitTest, ValidUtf8PrefixStopsAtTheFirstBadSequence) {
  using tokenizer::ValidUtf8Prefix;
  EXPECT_EQ(ValidUtf8Prefix("plain ascii text here"), 21u);
  EXPECT_EQ(ValidUtf8Prefix("\xE6\x97\xA5\xE6\x9C\xAC"), 6u);
  EXPECT_EQ(ValidUtf8Prefix("ab\xC0\xAF"), 2u);           // overlong
  EXPECT_EQ(ValidUtf8Prefix("ab\xED\xA0\x80"), 2u);       // surrogate
  EXPECT_EQ(ValidUtf8Prefix("ab\xF4\x90\x80\x80"), 2u);   // above U+10FFFF
  EXPECT_EQ(ValidUtf8Prefix("abcdefghij\xE6\x97"), 10u);  // truncated
  EXPECT_EQ(ValidUtf8Prefix("\xF0\x9F\x98\x80"), 4u);
}

}  // namespace
}  // namespace chorus
