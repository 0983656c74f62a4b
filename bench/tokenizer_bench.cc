// Tokenizer benchmark: single-core throughput (MB/s of UTF-8 input) of Encode and Count for
// cl100k_base and o200k_base, and of EstimateTokens, over English prose, C++ code, CJK text and
// a mix of the three. Target: >= 20 MB/s per encoding on the mix.
//
// Usage: tokenizer_bench [RESULTS_JSON]   (default: bench/results/tokenizer.json in the sources)
// Prints a markdown table and writes the same numbers as JSON. Times are CPU time of this
// process (the machine is shared), median of 5 runs.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "chorus/tokenizer.h"

namespace {

constexpr size_t kCorpusBytes = 4u << 20;  // per kind
constexpr double kGoalMbPerSecond = 20;

double CpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

double MedianCpuSeconds(const std::function<void()>& work) {
  std::vector<double> runs;
  for (int i = 0; i < 5; ++i) {
    const double start = CpuSeconds();
    work();
    runs.push_back(CpuSeconds() - start);
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Repeats `parts` in a shuffled order until `bytes` is reached, so no piece sequence is a
// short loop a cache could exploit.
std::string Fill(const std::vector<std::string>& parts, size_t bytes, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out;
  while (out.size() < bytes) out += parts[rng() % parts.size()];
  return out;
}

std::vector<std::string> Paragraphs(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find("\n\n", start);
    end = end == std::string::npos ? text.size() : end + 2;
    parts.push_back(text.substr(start, end - start));
    start = end;
  }
  return parts;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path root = CHORUS_SOURCE_DIR;
  const std::string results_path =
      argc > 1 ? argv[1] : (root / "bench/results/tokenizer.json").string();

  // English: the repository's prose documents. Code: its C++ sources. CJK: Chinese, Japanese
  // and Korean sentences.
  std::string prose_text = ReadFile(root / "README.md");
  std::vector<std::string> code_parts;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root / "src")) {
    if (entry.path().extension() == ".cc" || entry.path().extension() == ".h") {
      auto parts = Paragraphs(ReadFile(entry.path()));
      code_parts.insert(code_parts.end(), parts.begin(), parts.end());
    }
  }
  const std::vector<std::string> cjk_parts = {
      "東京は日本の首都であり、世界最大の都市圏の一つです。",
      "今日は天気がいいので、公園を散歩しました。桜がとてもきれいでした。",
      "机器学习模型需要大量的数据进行训练，才能得到准确的结果。",
      "这个程序的性能瓶颈在于字符串处理和内存分配。",
      "서울은 대한민국의 수도이며 인구가 가장 많은 도시입니다.",
      "오늘 회의에서 새로운 프로젝트 일정에 대해 논의했습니다.\n",
      "プログラムのテストを書くことは、品質を保つために重要です。\n",
      "我们明天上午十点在会议室讨论预算和人员安排。"};
  const std::string prose = Fill(Paragraphs(prose_text), kCorpusBytes, 1);
  const std::string code = Fill(code_parts, kCorpusBytes, 2);
  const std::string cjk = Fill(cjk_parts, kCorpusBytes, 3);
  std::vector<std::string> mix_parts = Paragraphs(prose_text);
  mix_parts.insert(mix_parts.end(), code_parts.begin(), code_parts.end());
  for (int i = 0; i < 40; ++i) mix_parts.push_back(Fill(cjk_parts, 400, 10 + i));
  const std::string mix = Fill(mix_parts, kCorpusBytes, 4);

  struct Kind {
    const char* name;
    const std::string* text;
  };
  const std::vector<Kind> kinds = {
      {"english", &prose}, {"code", &code}, {"cjk", &cjk}, {"mixed", &mix}};

  nlohmann::json results = nlohmann::json::array();
  std::printf("| encoding | text | op | MB | tokens | MB/s (CPU) |\n");
  std::printf("| --- | --- | --- | ---: | ---: | ---: |\n");
  auto report = [&](const std::string& encoding, const Kind& kind, const char* op, size_t tokens,
                    double seconds) {
    const double mb = static_cast<double>(kind.text->size()) / 1e6;
    std::printf("| %s | %s | %s | %.1f | %zu | %.1f |\n", encoding.c_str(), kind.name, op, mb,
                tokens, mb / seconds);
    results.push_back({{"encoding", encoding},
                       {"text", kind.name},
                       {"op", op},
                       {"bytes", kind.text->size()},
                       {"tokens", tokens},
                       {"cpu_seconds", seconds},
                       {"mb_per_s", mb / seconds}});
  };

  bool met_goal = true;
  for (const char* name : {"cl100k_base", "o200k_base"}) {
    auto tokenizer = chorus::GetTokenizer(name);
    if (!tokenizer) {
      std::fprintf(stderr, "tokenizer_bench: %s\n", tokenizer.error().ToString().c_str());
      return 1;
    }
    const chorus::Tokenizer& tok = **tokenizer;
    for (const Kind& kind : kinds) {
      size_t tokens = 0;
      const double encode_s = MedianCpuSeconds([&] { tokens = tok.Encode(*kind.text).size(); });
      report(name, kind, "Encode", tokens, encode_s);
      const double count_s = MedianCpuSeconds([&] { tokens = tok.Count(*kind.text); });
      report(name, kind, "Count", tokens, count_s);
      if (std::string(kind.name) == "mixed") {
        const double mb = static_cast<double>(kind.text->size()) / 1e6;
        met_goal = met_goal && mb / encode_s >= kGoalMbPerSecond;
      }
    }
  }
  for (const Kind& kind : kinds) {
    size_t tokens = 0;
    const double seconds = MedianCpuSeconds([&] { tokens = chorus::EstimateTokens(*kind.text); });
    report("estimate", kind, "EstimateTokens", tokens, seconds);
  }
  std::printf("\nGoal: Encode >= %.0f MB/s on the mixed text for both encodings: %s\n",
              kGoalMbPerSecond, met_goal ? "met" : "NOT met");

  nlohmann::json doc = {{"benchmark", "tokenizer"},
                        {"build_type", CHORUS_BUILD_TYPE},
                        {"goal_mb_per_s", kGoalMbPerSecond},
                        {"goal_met", met_goal},
                        {"results", results}};
  std::filesystem::create_directories(std::filesystem::path(results_path).parent_path());
  std::ofstream(results_path) << doc.dump(2) << "\n";
  return met_goal ? 0 : 2;
}
