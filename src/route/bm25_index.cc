#include "route/bm25_index.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "route/search_text.h"

namespace chorus::route {

void Bm25Index::Add(const std::vector<std::pair<std::string_view, double>>& fields) {
  size_t doc = doc_lengths_.size();
  std::map<std::string, double> tf;
  double length = 0;
  for (const auto& [text, weight] : fields) {
    for (std::string& term : TermsWithPhrases(text)) {
      tf[std::move(term)] += weight;
      length += weight;
    }
  }
  for (auto& [term, weighted_tf] : tf) postings_[term].push_back({doc, weighted_tf});
  doc_lengths_.push_back(length);
  total_length_ += length;
}

std::vector<Bm25Index::Hit> Bm25Index::Search(std::string_view query, size_t k) const {
  std::vector<Hit> hits;
  if (doc_lengths_.empty() || k == 0) return hits;
  std::vector<std::string> terms = TermsWithPhrases(query);
  // A term repeated in the query counts once: requests repeat words for grammar, not weight.
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());

  const double n = static_cast<double>(doc_lengths_.size());
  const double avg_length = total_length_ / n;
  std::vector<double> scores(doc_lengths_.size(), 0.0);
  for (const std::string& term : terms) {
    auto it = postings_.find(term);
    if (it == postings_.end()) continue;
    const double df = static_cast<double>(it->second.size());
    const double idf = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    for (const Posting& p : it->second) {
      double norm = params_.k1 * (1 - params_.b + params_.b * doc_lengths_[p.doc] / avg_length);
      scores[p.doc] += idf * p.weighted_tf * (params_.k1 + 1) / (p.weighted_tf + norm);
    }
  }
  for (size_t doc = 0; doc < scores.size(); ++doc) {
    if (scores[doc] > 0) hits.push_back({doc, scores[doc]});
  }
  auto better = [](const Hit& a, const Hit& b) {
    return a.score != b.score ? a.score > b.score : a.doc < b.doc;
  };
  if (hits.size() > k) {
    std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(k), hits.end(),
                      better);
    hits.resize(k);
  } else {
    std::sort(hits.begin(), hits.end(), better);
  }
  return hits;
}

}  // namespace chorus::route
