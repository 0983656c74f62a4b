// EstimateTokens must never under-count cl100k or o200k on the corpus (the golden samples of
// every encoding in TestPlans.txt plus real documents of this repository and a few synthetic
// ones), and must stay close enough to be useful. The measured ratios are printed.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "chorus/tokenizer.h"

namespace chorus {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Doc {
  std::string name;
  std::string text;
};

std::vector<Doc> Corpus() {
  std::vector<Doc> docs;
  std::istringstream plans(ReadFile(TokenizerDataDir() + "/TestPlans.txt"));
  std::string line;
  int n = 0;
  while (std::getline(plans, line)) {
    if (line.rfind("Sample:", 0) == 0) {
      docs.push_back({"TestPlans#" + std::to_string(n++), line.size() > 8 ? line.substr(8) : ""});
    }
  }
  const std::filesystem::path root = CHORUS_SOURCE_DIR;
  for (const char* rel : {"README.md", "include/chorus/tokenizer.h", "include/chorus/status.h",
                          "include/chorus/store.h", "src/model/tokenizer_split.cc",
                          "src/model/tokenizer_bpe.cc", "scripts/setup.sh", "package-lock.json"}) {
    std::string text = ReadFile(root / rel);
    if (!text.empty()) docs.push_back({rel, std::move(text)});
  }
  std::string cjk, json, numbers, indented, mixed;
  for (int i = 0; i < 40; ++i) {
    cjk += "東京は日本の首都であり、世界最大の都市圏の一つです。人口は約千四百万人。";
    json += R"({"id": )" + std::to_string(1000 + i * 37) + R"(, "name": "item_)" +
            std::to_string(i) + R"(", "tags": ["a", "b"], "ok": true},)" + "\n";
    numbers += std::to_string(3.14159 * i * i) + ", " + std::to_string(i * 982451653LL) + "; ";
    indented += std::string(static_cast<size_t>(i % 8) * 4, ' ') + "if (x_" + std::to_string(i) +
                " > 0) { return y; }\n";
    mixed += "Résumé — naïve café; Ελληνικά κείμενα; русский текст; हिन्दी पाठ; 한국어 문장 🎉\n";
  }
  docs.push_back({"cjk", cjk});
  docs.push_back({"json", json});
  docs.push_back({"numbers", numbers});
  docs.push_back({"indented", indented});
  docs.push_back({"mixed-scripts", mixed});
  return docs;
}

TEST(EstimateTokensTest, NeverUnderCountsCl100kOrO200kOnTheCorpus) {
  auto cl = GetTokenizer("cl100k_base");
  auto o2 = GetTokenizer("o200k_base");
  ASSERT_TRUE(cl && o2);
  double min_ratio = 1e9, max_ratio = 0;
  size_t total_estimate = 0, total_actual = 0;
  std::string worst;
  for (const Doc& doc : Corpus()) {
    const size_t actual = std::max((*cl)->Count(doc.text), (*o2)->Count(doc.text));
    const size_t estimate = EstimateTokens(doc.text);
    EXPECT_GE(estimate, actual) << doc.name << ": " << doc.text.substr(0, 120);
    total_estimate += estimate;
    total_actual += actual;
    if (actual == 0) continue;
    const double ratio = static_cast<double>(estimate) / static_cast<double>(actual);
    if (doc.name.rfind("TestPlans", 0) != 0) {
      std::cout << "  " << doc.name << ": estimate " << estimate << ", cl100k/o200k max " << actual
                << ", ratio " << ratio << "\n";
    }
    if (ratio < min_ratio) worst = doc.name;
    min_ratio = std::min(min_ratio, ratio);
    max_ratio = std::max(max_ratio, ratio);
  }
  const double overall = static_cast<double>(total_estimate) / static_cast<double>(total_actual);
  std::cout << "estimate / max(cl100k, o200k): min " << min_ratio << " (" << worst << "), max "
            << max_ratio << ", corpus total " << overall << "\n";
  // Useful, not just safe: over the whole corpus it stays within 1.6x.
  EXPECT_LT(overall, 1.6);
}

TEST(EstimateTokensTest, ReadmeAndCodeStayCloseToTheRealCount) {
  auto cl = GetTokenizer("cl100k_base");
  ASSERT_TRUE(cl);
  const std::string readme = ReadFile(std::filesystem::path(CHORUS_SOURCE_DIR) / "README.md");
  ASSERT_FALSE(readme.empty());
  const double ratio =
      static_cast<double>(EstimateTokens(readme)) / static_cast<double>((*cl)->Count(readme));
  EXPECT_GE(ratio, 1.0);
  EXPECT_LT(ratio, 1.6);
}

TEST(EstimateTokensTest, EmptyIsZeroAndGrowsWithText) {
  EXPECT_EQ(EstimateTokens(""), 0u);
  EXPECT_GE(EstimateTokens("a"), 1u);
  EXPECT_LT(EstimateTokens("hello"), EstimateTokens("hello world, hello world"));
  EXPECT_GE(EstimateTokens(std::string("\xFF\xFE\xFD")), 3u);  // invalid bytes: a token each
}

}  // namespace
}  // namespace chorus
