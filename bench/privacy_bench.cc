// PII detection throughput on one core over mixed business text: the generated corpus
// (tests/privacy/corpus/corpus.jsonl) repeated to ~32 MB, scanned document by document, and
// also anonymized through a vault. Prints a markdown table; writes bench/results/privacy.json.
#include <time.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chorus/privacy.h"

int main() {
  const std::string root = CHORUS_SOURCE_DIR;
  std::ifstream in(root + "/tests/privacy/corpus/corpus.jsonl");
  if (!in) {
    std::fprintf(stderr,
                 "privacy_bench: cannot read the corpus; run tests/privacy/make_corpus.py\n");
    return 1;
  }
  std::vector<std::string> docs;
  std::vector<std::string> entities;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    docs.push_back(j["text"]);
    for (const auto& e : j["entities"]) entities.push_back(e);
  }
  chorus::PiiDetectorOptions options;
  options.entities = entities;
  auto detector = chorus::PiiDetector::Make(options);
  if (!detector) {
    std::fprintf(stderr, "privacy_bench: %s\n", detector.error().ToString().c_str());
    return 1;
  }
  size_t corpus_bytes = 0;
  for (const auto& d : docs) corpus_bytes += d.size();
  const size_t target = 32u << 20;
  const int repeats = static_cast<int>(target / corpus_bytes) + 1;

  auto run = [&](bool anonymize, size_t& spans) {
    spans = 0;
    // Thread CPU time: the machine is shared, so wall time would measure the neighbours too.
    timespec c0{}, c1{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    for (int r = 0; r < repeats; ++r) {
      chorus::Vault vault;
      for (const auto& d : docs) {
        auto found = (*detector)->Detect(d);
        spans += found.size();
        if (anonymize) {
          std::string out = vault.Anonymize(d, found);
          if (out.empty() && !d.empty()) std::abort();
        }
      }
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    return static_cast<double>(c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
  };
  size_t spans = 0, spans_anon = 0;
  run(false, spans);  // warm-up
  const double detect_s = run(false, spans);
  const double anon_s = run(true, spans_anon);
  const double mb = static_cast<double>(corpus_bytes) * repeats / 1e6;
  const double avg_doc = static_cast<double>(corpus_bytes) / docs.size();

  std::printf("| operation | MB | CPU seconds | MB/s | spans |\n|---|---|---|---|---|\n");
  std::printf("| detect | %.1f | %.3f | %.1f | %zu |\n", mb, detect_s, mb / detect_s, spans);
  std::printf("| detect + anonymize | %.1f | %.3f | %.1f | %zu |\n", mb, anon_s, mb / anon_s,
              spans_anon);
  std::printf("\n%zu documents (mean %.0f bytes) x %d, one thread\n", docs.size(), avg_doc,
              repeats);

  nlohmann::json out = {{"bench", "privacy"},
                        {"documents", docs.size()},
                        {"mean_document_bytes", avg_doc},
                        {"megabytes", mb},
                        {"detect_mb_per_s", mb / detect_s},
                        {"detect_anonymize_mb_per_s", mb / anon_s},
                        {"threads", 1}};
  std::ofstream(root + "/bench/results/privacy.json") << out.dump(2) << "\n";
  return 0;
}
