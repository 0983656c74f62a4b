#include "model/offline_text.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "core/hash.h"

namespace chorus::offline {
namespace {

// Sentences longer than this are shown cut; the byte budgets of Best() count them so.
constexpr size_t kShownSentenceBytes = 300;

constexpr std::array<std::string_view, 120> kStopWords = {
    "the",    "and",    "for",     "are",     "but",   "not",   "you",     "all",     "any",
    "can",    "had",    "her",     "was",     "one",   "our",   "out",     "has",     "have",
    "him",    "his",    "how",     "its",     "may",   "new",   "now",     "old",     "see",
    "two",    "way",    "who",     "did",     "get",   "let",   "she",     "too",     "use",
    "with",   "this",   "that",    "from",    "they",  "will",  "would",   "there",   "their",
    "what",   "about",  "which",   "when",    "make",  "like",  "time",    "just",    "know",
    "take",   "into",   "year",    "your",    "some",  "could", "them",    "than",    "then",
    "look",   "only",   "come",    "over",    "also",  "back",  "after",   "work",    "first",
    "well",   "even",   "want",    "because", "these", "give",  "most",    "were",    "been",
    "being",  "does",   "done",    "each",    "such",  "very",  "much",    "more",    "should",
    "must",   "shall",  "here",    "where",   "while", "both",  "between", "through", "during",
    "before", "under",  "again",   "further", "once",  "other", "same",    "own",     "those",
    "upon",   "within", "without", "whether", "yet",   "per",   "via",     "etc",     "ours",
    "yours",  "itself", "please",
};

constexpr auto kStopHashes = [] {
  std::array<uint64_t, kStopWords.size()> hashes{};
  for (size_t i = 0; i < kStopWords.size(); ++i) hashes[i] = Fnv1a64(kStopWords[i]);
  std::sort(hashes.begin(), hashes.end());
  return hashes;
}();

// ASCII classification without the locale lookups of <cctype>: this runs once per byte.
bool IsUpper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(unsigned char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsWordByte(unsigned char c) { return IsLower(c) || IsUpper(c) || IsDigit(c) || c >= 0x80; }

// Occurrence counts of term hashes: open addressing with linear probing, grown by doubling.
// Texts repeat a few thousand distinct words, so the table stays small and in cache.
class TermCounter {
 public:
  TermCounter() : keys_(64, 0), counts_(64, 0) {}
  void Add(uint64_t term) {
    if (2 * (size_ + 1) > keys_.size()) Grow();
    const size_t i = Slot(term);
    if (counts_[i]++ == 0) ++size_;
  }
  uint32_t Count(uint64_t term) const { return counts_[Slot(term)]; }

 private:
  static uint64_t Key(uint64_t term) { return term | 1; }  // 0 marks an empty slot
  size_t Slot(uint64_t term) const {
    const uint64_t key = Key(term);
    const size_t mask = keys_.size() - 1;
    size_t i = static_cast<size_t>(key ^ (key >> 29)) & mask;
    while (keys_[i] != 0 && keys_[i] != key) i = (i + 1) & mask;
    return i;
  }
  size_t Slot(uint64_t term) {
    const size_t i = std::as_const(*this).Slot(term);
    keys_[i] = Key(term);
    return i;
  }
  void Grow() {
    std::vector<uint64_t> keys(keys_.size() * 2, 0);
    std::vector<uint32_t> counts(counts_.size() * 2, 0);
    keys.swap(keys_);
    counts.swap(counts_);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] != 0) counts_[Slot(keys[i])] = counts[i];
    }
  }

  std::vector<uint64_t> keys_;
  std::vector<uint32_t> counts_;
  size_t size_ = 0;
};
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Calls `emit(hash)` for each content word of `text`; `word` is scratch space.
template <class Emit>
void ForEachTerm(std::string_view text, std::string& word, Emit&& emit) {
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !IsWordByte(static_cast<unsigned char>(text[i]))) ++i;
    word.clear();
    while (i < text.size() && IsWordByte(static_cast<unsigned char>(text[i]))) {
      const auto c = static_cast<unsigned char>(text[i]);
      // camelCase boundary: "riskLevel" is "risk" and "level".
      if (IsUpper(c) && !word.empty() && IsLower(static_cast<unsigned char>(text[i - 1]))) break;
      word += static_cast<char>(IsUpper(c) ? c - 'A' + 'a' : c);
      ++i;
    }
    if (word.size() < 3) continue;
    if (std::binary_search(kStopHashes.begin(), kStopHashes.end(), Fnv1a64(word))) continue;
    std::string_view stem = word;
    if (stem.size() > 4 && stem.ends_with("ies")) {
      word.replace(word.size() - 3, 3, "y");
      stem = word;
    } else if (stem.size() > 3 && stem.back() == 's' && !stem.ends_with("ss") &&
               !stem.ends_with("us") && !stem.ends_with("is")) {
      stem.remove_suffix(1);
    }
    emit(Fnv1a64(stem));
  }
}

// Removes list, quote, heading and checkbox markers from the start of a line.
std::string_view StripLineMarkers(std::string_view line) {
  for (bool changed = true; changed && !line.empty();) {
    changed = false;
    const char c = line.front();
    if (c == '#' || c == '>' ||
        ((c == '-' || c == '*' || c == '+') && line.size() > 1 && IsSpace(line[1]))) {
      line.remove_prefix(1);
      while (!line.empty() && line.front() == '#') line.remove_prefix(1);
      changed = true;
    } else if (IsDigit(static_cast<unsigned char>(c))) {
      size_t n = 0;
      while (n < line.size() && IsDigit(static_cast<unsigned char>(line[n]))) ++n;
      if (n < 4 && n + 1 < line.size() && (line[n] == '.' || line[n] == ')') &&
          IsSpace(line[n + 1])) {
        line.remove_prefix(n + 1);
        changed = true;
      }
    } else if (line.starts_with("[ ]") || line.starts_with("[x]") || line.starts_with("[X]")) {
      line.remove_prefix(3);
      changed = true;
    }
    line = Trim(line);
  }
  return line;
}

bool HasLetter(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return IsLower(u) || IsUpper(u) || u >= 0x80;
  });
}

// Lower-cased words of a property name: "riskLevel" and "risk_level" are {"risk", "level"}.
std::vector<std::string> NameWords(std::string_view name) {
  std::vector<std::string> words;
  std::string word;
  for (size_t i = 0; i <= name.size(); ++i) {
    const auto c = i < name.size() ? static_cast<unsigned char>(name[i]) : 0;
    const bool boundary = c == 0 || !IsWordByte(c) ||
                          (IsUpper(c) && i > 0 && IsLower(static_cast<unsigned char>(name[i - 1])));
    if (boundary && !word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
    if (c != 0 && IsWordByte(c)) word += static_cast<char>(IsUpper(c) ? c - 'A' + 'a' : c);
  }
  return words;
}

}  // namespace

NameRole RoleOfName(std::string_view name) {
  static const std::vector<std::pair<NameRole, std::vector<std::string_view>>> kRoles = {
      {NameRole::kIdentifier, {"id", "key", "slug", "code", "ref"}},
      {NameRole::kConstraint,
       {"constraint", "requirement", "rule", "check", "checklist", "criteria", "criterion"}},
      {NameRole::kTitle,
       {"title", "name", "objective", "goal", "task", "question", "topic", "subject", "headline",
        "purpose", "aim"}},
      {NameRole::kSummary,
       {"summary",  "description", "overview", "abstract", "context", "background", "situation",
        "position", "state",       "status",   "progress", "finding", "reasoning",  "rationale",
        "answer",   "text",        "content",  "body",     "detail",  "details"}},
  };
  const std::vector<std::string> words = NameWords(name);
  for (const auto& [role, keys] : kRoles) {
    // "brief_id" is an identifier, "key_decisions" is not.
    const size_t first = role == NameRole::kIdentifier && !words.empty() ? words.size() - 1 : 0;
    for (size_t i = first; i < words.size(); ++i) {
      const std::string& w = words[i];
      for (std::string_view key : keys) {
        // Short keys must match whole words ("id" is not in "valid"); longer ones may carry
        // a plural or suffix ("constraints", "titles").
        if (w == key || (key.size() > 3 && w.starts_with(key) && w.size() <= key.size() + 2)) {
          return role;
        }
      }
    }
  }
  return NameRole::kTopic;
}

std::string HumanizeName(std::string_view name) {
  std::string out;
  for (const std::string& w : NameWords(name)) out += (out.empty() ? "" : " ") + w;
  return out.empty() ? "this item" : out;
}

std::string Slug(std::string_view text) {
  std::string out;
  for (const std::string& w : NameWords(text)) {
    if (out.size() + w.size() > 48) break;
    out += (out.empty() ? "" : "-") + w;
  }
  return out.empty() ? "offline" : out;
}

std::vector<uint64_t> ContentTerms(std::string_view text) {
  std::vector<uint64_t> terms;
  std::string word;
  ForEachTerm(text, word, [&](uint64_t h) {
    if (std::find(terms.begin(), terms.end(), h) == terms.end()) terms.push_back(h);
  });
  return terms;
}

std::string Truncate(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  constexpr std::string_view kEllipsis = "…";
  size_t cut = max_bytes > kEllipsis.size() ? max_bytes - kEllipsis.size() : 0;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  // Prefer to cut at a word boundary when one is near.
  size_t space = text.rfind(' ', cut);
  if (space != std::string_view::npos && space + 40 > cut && space > 0) cut = space;
  std::string out(Trim(text.substr(0, cut)));
  out += kEllipsis;
  return out;
}

std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (IsSpace(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

namespace {

bool IsScaffolding(std::string_view line) {
  static constexpr std::string_view kPrefixes[] = {"#",
                                                   "> Drafted by chorus's offline model",
                                                   "Objective: ",
                                                   "Output of step '",
                                                   "- [ ] What belongs under",
                                                   "- [ ] Which facts or sources",
                                                   "- [ ] Who decides or acts",
                                                   "- [ ] Answer the objective in full",
                                                   "Still to be done by a person",
                                                   "What the context says",
                                                   "Constraints to honour"};
  for (std::string_view prefix : kPrefixes) {
    if (line.starts_with(prefix)) return true;
  }
  return false;
}

}  // namespace

SentenceIndex::SentenceIndex(const std::vector<std::string_view>& sources, std::string_view focus) {
  for (size_t k = 0; k < sources.size(); ++k) {
    std::string_view source = sources[k];
    bool in_fence = false;
    size_t pos = 0;
    while (pos < source.size()) {
      size_t eol = source.find('\n', pos);
      if (eol == std::string_view::npos) eol = source.size();
      std::string_view line = Trim(source.substr(pos, eol - pos));
      pos = eol + 1;
      if (line.starts_with("```") || line.starts_with("~~~")) {
        in_fence = !in_fence;
        continue;
      }
      if (in_fence) continue;
      // Headings, and the scaffolding of earlier offline answers (the notice, the restated
      // objective, worksheet questions, the runtime's "Output of step" labels), are not
      // content: a synthesis of offline answers would otherwise quote them back.
      if (IsScaffolding(line)) continue;
      line = StripLineMarkers(line);
      // Sentence ends: . ! ? followed by a space or the end of the line.
      size_t start = 0;
      for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        const bool end = i + 1 == line.size();
        if (!end && !((c == '.' || c == '!' || c == '?') && IsSpace(line[i + 1]))) continue;
        std::string_view sentence = Trim(line.substr(start, i + 1 - start));
        start = i + 1;
        if (HasLetter(sentence)) sentences_.push_back({sentence, k});
      }
    }
  }

  std::string word;
  term_begin_.reserve(sentences_.size() + 1);
  for (const Sentence& sentence : sentences_) {
    term_begin_.push_back(static_cast<uint32_t>(terms_.size()));
    ForEachTerm(sentence.text, word, [&](uint64_t h) { terms_.push_back(h); });
  }
  term_begin_.push_back(static_cast<uint32_t>(terms_.size()));

  TermCounter frequency;
  for (uint64_t t : terms_) frequency.Add(t);
  const std::vector<uint64_t> focus_terms = ContentTerms(focus);

  base_score_.resize(sentences_.size());
  for (size_t i = 0; i < sentences_.size(); ++i) {
    const uint32_t n = term_begin_[i + 1] - term_begin_[i];
    double sum = 0;
    for (uint32_t t = term_begin_[i]; t < term_begin_[i + 1]; ++t) {
      // Terms repeated across the context carry its subject; single mentions add little.
      sum += std::log(static_cast<double>(frequency.Count(terms_[t])));
      if (std::find(focus_terms.begin(), focus_terms.end(), terms_[t]) != focus_terms.end()) {
        sum += 2.0;
      }
    }
    double score = (sum + 0.1 * n) / std::sqrt(1.0 + n);
    if (n < 4) score *= 0.5;  // fragments and headings say little on their own
    base_score_[i] = score;
  }
}

double SentenceIndex::Score(size_t i, const std::vector<uint64_t>& topic) const {
  if (topic.empty()) return base_score_[i];
  int hits = 0;
  for (uint32_t t = term_begin_[i]; t < term_begin_[i + 1]; ++t) {
    hits += std::find(topic.begin(), topic.end(), terms_[t]) != topic.end();
  }
  return hits == 0 ? -1.0 : base_score_[i] + 3.0 * hits;
}

std::vector<size_t> SentenceIndex::Best(const std::vector<uint64_t>& topic, size_t max_sentences,
                                        size_t max_bytes) const {
  std::vector<std::pair<double, size_t>> ranked;
  ranked.reserve(topic.empty() ? sentences_.size() : 16);
  for (size_t i = 0; i < sentences_.size(); ++i) {
    const double score = Score(i, topic);
    if (score >= 0) ranked.emplace_back(score, i);
  }
  // Higher score first; the earlier sentence wins a tie, so the choice is deterministic.
  auto better = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  const size_t keep = std::min(max_sentences, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(keep),
                    ranked.end(), better);
  std::vector<size_t> chosen;
  size_t bytes = 0;
  for (size_t r = 0; r < keep; ++r) {
    const size_t shown = std::min(sentences_[ranked[r].second].text.size(), kShownSentenceBytes);
    if (!chosen.empty() && bytes + shown > max_bytes) break;
    bytes += shown;
    chosen.push_back(ranked[r].second);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace chorus::offline
