// Scores the detector on the generated corpus (tests/privacy/make_corpus.py): per-type
// precision, recall and F1, micro F1, person recall, leak rate and hard-negative hit rate.
// A predicted span counts for a gold span when their types agree and they overlap; the exact
// (same bytes) rate is printed beside it.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "chorus/privacy.h"

namespace chorus {
namespace {

struct Counts {
  int tp = 0, fp = 0, fn = 0, exact = 0;
};

double Ratio(double a, double b) { return b == 0 ? 0 : a / b; }

TEST(PrivacyCorpus, MeetsDetectionTargets) {
  std::ifstream in(std::string(CHORUS_SOURCE_DIR) + "/tests/privacy/corpus/corpus.jsonl");
  ASSERT_TRUE(in) << "corpus missing: run python3 tests/privacy/make_corpus.py";
  std::vector<nlohmann::json> docs;
  std::set<std::string> entities;
  for (std::string line; std::getline(in, line);) {
    docs.push_back(nlohmann::json::parse(line));
    for (const auto& e : docs.back()["entities"]) entities.insert(e.get<std::string>());
  }
  ASSERT_GE(docs.size(), 500u);
  PiiDetectorOptions options;
  options.entities.assign(entities.begin(), entities.end());
  auto detector = PiiDetector::Make(options);
  ASSERT_TRUE(detector) << detector.error().ToString();

  std::map<std::string, Counts> by_type;
  int gold_values = 0, leaked = 0, negatives = 0, negatives_hit = 0;
  for (const auto& doc : docs) {
    const std::string text = doc["text"];
    const std::vector<PiiSpan> predicted = (*detector)->Detect(text);
    std::vector<bool> used(predicted.size(), false);
    for (const auto& g : doc["spans"]) {
      const size_t gs = g["start"], ge = g["end"];
      const std::string type = g["type"];
      Counts& c = by_type[type];
      bool hit = false;
      for (size_t k = 0; k < predicted.size(); ++k) {
        const PiiSpan& p = predicted[k];
        if (EntityTypeName(p.type) == type && p.start < ge && p.end > gs) {
          hit = true;
          used[k] = true;
          if (p.start == gs && p.end == ge) ++c.exact;
        }
      }
      hit ? ++c.tp : ++c.fn;
    }
    for (size_t k = 0; k < predicted.size(); ++k) {
      if (!used[k]) ++by_type[std::string(EntityTypeName(predicted[k].type))].fp;
    }
    Vault vault;
    const std::string anonymized = vault.Anonymize(text, predicted);
    for (const auto& g : doc["spans"]) {
      const size_t gs = g["start"], ge = g["end"];
      ++gold_values;
      if (anonymized.find(text.substr(gs, ge - gs)) != std::string::npos) {
        ++leaked;
        if (getenv("CHORUS_SHOW_MISSES")) {
          std::printf("LEAK %s [%s] doc %d\n", std::string(g["type"]).c_str(),
                      text.substr(gs, ge - gs).c_str(), doc["id"].get<int>());
        }
      }
    }
    for (const auto& n : doc["hard_negatives"]) {
      const size_t ns = n["start"], ne = n["end"];
      ++negatives;
      bool hit = false;
      for (const PiiSpan& p : predicted) hit = hit || (p.start < ne && p.end > ns);
      negatives_hit += hit;
      if (hit && getenv("CHORUS_SHOW_MISSES")) {
        std::printf("NEG %s [%s]\n", std::string(n["kind"]).c_str(),
                    text.substr(ns, ne - ns).c_str());
      }
    }
    if (getenv("CHORUS_SHOW_MISSES")) {
      for (size_t k = 0; k < predicted.size(); ++k) {
        if (!used[k]) {
          std::printf(
              "FP %s [%s] doc %d\n", std::string(EntityTypeName(predicted[k].type)).c_str(),
              text.substr(predicted[k].start, predicted[k].end - predicted[k].start).c_str(),
              doc["id"].get<int>());
        }
      }
    }
  }
  Counts total;
  std::printf("\n| type | gold | precision | recall | F1 | exact |\n|---|---|---|---|---|---|\n");
  for (const auto& [type, c] : by_type) {
    const double p = Ratio(c.tp, c.tp + c.fp), r = Ratio(c.tp, c.tp + c.fn);
    std::printf("| %s | %d | %.3f | %.3f | %.3f | %.3f |\n", type.c_str(), c.tp + c.fn, p, r,
                Ratio(2 * p * r, p + r), Ratio(c.exact, c.tp + c.fn));
    total.tp += c.tp, total.fp += c.fp, total.fn += c.fn;
  }
  const double p = Ratio(total.tp, total.tp + total.fp), r = Ratio(total.tp, total.tp + total.fn);
  const double micro_f1 = Ratio(2 * p * r, p + r);
  const Counts& person = by_type["PERSON"];
  const double person_recall = Ratio(person.tp, person.tp + person.fn);
  const double leak_rate = Ratio(leaked, gold_values);
  const double negative_rate = Ratio(negatives_hit, negatives);
  std::printf(
      "\nmicro P %.3f R %.3f F1 %.3f | person recall %.3f | leak %.4f (%d/%d) | "
      "hard negatives hit %.4f (%d/%d) | %zu documents\n",
      p, r, micro_f1, person_recall, leak_rate, leaked, gold_values, negative_rate, negatives_hit,
      negatives, docs.size());
  EXPECT_GE(micro_f1, 0.95);
  EXPECT_GE(person_recall, 0.92);
  EXPECT_LE(leak_rate, 0.01);
  EXPECT_LE(negative_rate, 0.02);
}

}  // namespace
}  // namespace chorus
