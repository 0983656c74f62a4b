// Bm25Index: ranks documents made of weighted fields (name, triggers, examples, summary) for a
// query with BM25F: a term's frequency in a document is the weighted sum of its frequencies in
// the fields, the document length the weighted sum of the field lengths, and the usual BM25
// saturation (k1) and length normalisation (b) apply to those sums.
//
// Build with Add() from one thread, then Search() is const and thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace chorus::route {

struct Bm25Params {
  double k1 = 1.2;
  double b = 0.75;
};

class Bm25Index {
 public:
  explicit Bm25Index(Bm25Params params = {}) : params_(params) {}

  // Adds document number size(); `fields` are (text, weight) pairs.
  void Add(const std::vector<std::pair<std::string_view, double>>& fields);
  size_t size() const { return doc_lengths_.size(); }

  struct Hit {
    size_t doc = 0;
    double score = 0;
  };
  // The best `k` documents with a positive score, best first, ties by smaller doc number.
  std::vector<Hit> Search(std::string_view query, size_t k) const;

 private:
  struct Posting {
    size_t doc;
    double weighted_tf;
  };
  Bm25Params params_;
  std::unordered_map<std::string, std::vector<Posting>> postings_;
  std::vector<double> doc_lengths_;
  double total_length_ = 0;
};

}  // namespace chorus::route
