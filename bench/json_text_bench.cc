// JSON string writing (AppendJsonString, src/core/json_text.h): how fast answer-sized texts
// (2 KB pieces) become JSON strings, the work every recorded request, answer and output does.
// Texts: the README (English markdown: a newline or quote every few dozen bytes, some
// typographic dashes), German prose (a multibyte letter every few words), Japanese (every
// character a three-byte sequence), and plain ASCII without anything to escape.
//
// Usage: json_text_bench [RESULTS_JSON]  (default: bench/results/json_text.json in the sources)
// Prints a markdown table and writes the same numbers as JSON. Times are CPU time of this
// process, median of 7 runs, each over 8 MB of pieces.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/json_text.h"

namespace {

constexpr size_t kPieceBytes = 2048;
constexpr size_t kBytesPerRun = 8u << 20;

double CpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// `text` cut into pieces of about kPieceBytes, each ending on a character boundary.
std::vector<std::string> Pieces(const std::string& text) {
  std::vector<std::string> pieces;
  size_t at = 0;
  while (at + kPieceBytes <= text.size()) {
    size_t end = at + kPieceBytes;
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    pieces.push_back(text.substr(at, end - at));
    at = end;
  }
  return pieces;
}

std::string Repeated(const std::string& sentence, size_t bytes) {
  std::string out;
  while (out.size() < bytes) out += sentence;
  return out;
}

// Nanoseconds per input byte, median of 7 runs.
double NsPerByte(const std::vector<std::string>& pieces) {
  size_t piece_bytes = 0;
  for (const std::string& p : pieces) piece_bytes += p.size();
  const size_t rounds = std::max<size_t>(1, kBytesPerRun / piece_bytes);
  std::vector<double> runs;
  std::string out;
  out.reserve(kPieceBytes * 3);
  size_t sink = 0;
  for (int run = 0; run < 7; ++run) {
    const double start = CpuSeconds();
    for (size_t r = 0; r < rounds; ++r) {
      for (const std::string& p : pieces) {
        out.clear();
        chorus::AppendJsonString(out, p);
        sink += out.size();
      }
    }
    runs.push_back((CpuSeconds() - start) * 1e9 / static_cast<double>(rounds * piece_bytes));
  }
  if (sink == 0) std::puts("");  // keeps the work observable
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path root = CHORUS_SOURCE_DIR;
  const std::string out_path =
      argc > 1 ? argv[1] : (root / "bench" / "results" / "json_text.json").string();
  std::ifstream readme(root / "README.md", std::ios::binary);
  std::ostringstream markdown;
  markdown << readme.rdbuf();

  const std::vector<std::pair<std::string, std::string>> texts = {
      {"English markdown (README)", markdown.str()},
      {"German prose",
       Repeated("Die Einführung in Deutschland erfordert eine Prüfung der "
                "Datenschutz-Grundverordnung, außerdem müssen alle Übersetzungen vor dem "
                "Start geprüft werden. ",
                256 * 1024)},
      {"Japanese", Repeated("ドイツでの発売には、データ保護規則の確認が必要です。", 256 * 1024)},
      {"plain ASCII",
       Repeated("The launch plan covers three markets and two quarters of work with owners ",
                256 * 1024)},
  };
  nlohmann::json results = nlohmann::json::object();
  std::printf("| text, in pieces of %zu bytes | ns per byte | MB/s |\n|---|---:|---:|\n",
              kPieceBytes);
  for (const auto& [name, text] : texts) {
    const double ns = NsPerByte(Pieces(text));
    std::printf("| %s | %.3f | %.0f |\n", name.c_str(), ns, 1e3 / ns);
    results[name] = {{"ns_per_byte", ns}, {"mb_per_s", 1e3 / ns}};
  }
  std::filesystem::create_directories(std::filesystem::path(out_path).parent_path());
  std::ofstream(out_path) << results.dump(2) << "\n";
  std::printf("wrote %s\n", out_path.c_str());
}
