// Extractive reading for the offline model: splits text into sentences and picks the most
// informative ones, overall or about a topic (a section or property name). Work is linear in
// the size of the text. A SentenceIndex is immutable after construction and safe to read from
// several threads; it holds views into the text it was built from, which must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::offline {

// Hashed, lower-cased, lightly stemmed content words ("Risks" and "risk" hash alike);
// stop words and words shorter than three letters are dropped. Splits camelCase and
// snake_case, so property names work as topics.
std::vector<uint64_t> ContentTerms(std::string_view text);

// `text` cut to at most `max_bytes` on a UTF-8 boundary, with "…" when something was cut.
std::string Truncate(std::string_view text, size_t max_bytes);

// `text` on one line: runs of whitespace (newlines included) become one space, trimmed.
std::string OneLine(std::string_view text);

// What a section or property name asks for, judged from its words.
enum class NameRole {
  kIdentifier,  // id, key, slug, code
  kConstraint,  // constraints, requirements, rules, checklist, criteria
  kTitle,       // title, name, objective, goal, task, question, topic
  kSummary,     // summary, description, overview, context, background, state, answer, ...
  kTopic,       // anything else: look for sentences about the name's own words
};
NameRole RoleOfName(std::string_view name);

// "riskLevel" -> "risk level"; "this item" for a name without words.
std::string HumanizeName(std::string_view name);

// "Draft the Q3 plan" -> "draft-the-q3-plan" (at most 48 bytes); "offline" when empty.
std::string Slug(std::string_view text);

struct Sentence {
  std::string_view text;  // trimmed, list and heading markers removed
  size_t source = 0;      // index of the text it came from
};

class SentenceIndex {
 public:
  // `sources` are the texts (e.g. a brief's context items); `focus` (e.g. the objective)
  // raises the score of sentences that share its terms.
  SentenceIndex(const std::vector<std::string_view>& sources, std::string_view focus);

  // Indices of the best sentences, in their original order: at most `max_sentences`, and
  // stopping before `max_bytes` of sentence text. With a non-empty `topic`, only sentences
  // that contain at least one of its terms qualify.
  std::vector<size_t> Best(const std::vector<uint64_t>& topic, size_t max_sentences,
                           size_t max_bytes) const;

  const Sentence& sentence(size_t i) const { return sentences_[i]; }
  size_t size() const { return sentences_.size(); }

 private:
  double Score(size_t i, const std::vector<uint64_t>& topic) const;

  std::vector<Sentence> sentences_;
  std::vector<uint32_t> term_begin_;  // sentence i's terms: terms_[term_begin_[i], [i + 1])
  std::vector<uint64_t> terms_;
  std::vector<double> base_score_;  // topic-independent part of each sentence's score
};

}  // namespace chorus::offline
