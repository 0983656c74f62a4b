// Person names. A capitalised word starts a name when it is a known first name that is not an
// ordinary word, or when context says so (a title, a greeting, a signature, a header field such
// as "From:" or "Attendees:", a known surname after it). The name extends over following
// surname-like words. Every word of a found name is then looked for again in the same text, in
// any case: "ANNA" and "anna" after "Anna Schmidt".
#include <algorithm>
#include <array>
#include <unordered_map>

#include "privacy/scan.h"

namespace chorus::privacy {
namespace {

struct Token {
  size_t start = 0;
  size_t end = 0;
  std::string folded;
  bool cap = false;       // Titlecase
  bool all_caps = false;  // two or more letters, all upper case
  bool lower = false;     // starts lower case
  bool line_start = false;
  bool sentence_start = false;
  bool single_space_before = false;  // exactly one space since the previous token
  // Lexicon hits, looked up once and only for capitalised tokens.
  bool dict_word = false;
  bool first_name = false;
  bool surname = false;
  bool proper_noun = false;
};

constexpr std::array<std::string_view, 15> kTitles = {"mr",   "mrs", "ms",   "miss", "dr",
                                                      "prof", "mx",  "herr", "frau", "mme",
                                                      "mlle", "sr",  "sra",  "dame", "sir"};
constexpr std::array<std::string_view, 11> kGreetings = {"dear",    "hi",       "hello",  "hey",
                                                         "hallo",   "bonjour",  "thanks", "cheers",
                                                         "welcome", "congrats", "ciao"};
constexpr std::array<std::string_view, 24> kFieldLabels = {"from",
                                                           "to",
                                                           "cc",
                                                           "bcc",
                                                           "attendees",
                                                           "participants",
                                                           "present",
                                                           "owner",
                                                           "assignee",
                                                           "reporter",
                                                           "contact",
                                                           "name",
                                                           "author",
                                                           "requested by",
                                                           "approved by",
                                                           "prepared by",
                                                           "signed",
                                                           "client contact",
                                                           "account manager",
                                                           "reviewer",
                                                           "sender",
                                                           "recipient",
                                                           "customer",
                                                           "caller"};
constexpr std::array<std::string_view, 16> kClosings = {
    "best",         "best regards", "regards", "kind regards", "warm regards",    "many thanks",
    "thanks",       "thank you",    "cheers",  "sincerely",    "yours sincerely", "yours truly",
    "all the best", "with thanks",  "br",      "talk soon"};
constexpr std::array<std::string_view, 19> kCalendar = {
    "january",   "february",  "march",   "april",    "may",      "june",   "july",
    "august",    "september", "october", "november", "december", "monday", "tuesday",
    "wednesday", "thursday",  "friday",  "saturday", "sunday"};
// Words after which a capitalised unknown word is most likely a person ("ask Jing whether").
constexpr std::array<std::string_view, 22> kPersonCues = {
    "ask",    "asked",   "with",    "for",   "from",  "thanks", "ping", "cc",
    "told",   "tell",    "by",      "and",   "call",  "met",    "per",  "invite",
    "remind", "contact", "emailed", "thank", "spoke", "to"};
constexpr std::array<std::string_view, 16> kParticles = {"van", "von", "de",  "da", "del", "der",
                                                         "di",  "du",  "le",  "la", "bin", "al",
                                                         "ter", "ten", "dos", "das"};

template <size_t N>
bool In(const std::array<std::string_view, N>& set, std::string_view w) {
  for (std::string_view s : set) {
    if (s == w) return true;
  }
  return false;
}

bool IsUpperLead(char c) {
  const auto u = static_cast<unsigned char>(c);
  return IsUpper(c) || (u == 0xC3);  // Latin-1 capitals À-Þ are C3 80-9E; checked below
}

std::vector<Token> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  tokens.reserve(text.size() / 6 + 1);
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    if (!IsWordByte(text[i]) || IsDigit(text[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    bool digits = false;
    while (i < n) {
      if (IsWordByte(text[i])) {
        digits = digits || IsDigit(text[i]);
        ++i;
      } else if ((text[i] == '\'' || text[i] == '-') && i + 1 < n && IsAlpha(text[i + 1]) &&
                 !(text[i] == '\'' && (text[i + 1] == 's' || text[i + 1] == 'S') &&
                   (i + 2 >= n || !IsWordByte(text[i + 2])))) {
        i += 2;
      } else {
        break;
      }
    }
    size_t end = i;
    // A possessive written with a typographic apostrophe: "Anna’s".
    if (end - start > 4 && text.substr(end - 4, 4) == "\xE2\x80\x99s") end -= 4;
    if (digits) continue;
    Token t;
    t.start = start;
    t.end = end;
    const char c0 = text[start];
    const bool upper_lead =
        IsUpperLead(c0) &&
        (c0 != '\xC3' || (start + 1 < n && static_cast<unsigned char>(text[start + 1]) <= 0x9E));
    bool rest_upper = end - start >= 2, rest_lower = true;
    for (size_t k = start + 1; k < end; ++k) {
      if (IsLower(text[k])) rest_upper = false;
      if (IsUpper(text[k])) rest_lower = false;
    }
    t.all_caps = upper_lead && rest_upper;
    t.cap = upper_lead && !t.all_caps;
    t.lower = IsLower(c0);
    // Folding costs a copy: done here for capitalised words, later for the others on demand.
    if (t.cap || t.all_caps) t.folded = Lowercase(text.substr(start, end - start));
    (void)rest_lower;
    size_t b = start;
    while (b > 0 && (text[b - 1] == ' ' || text[b - 1] == '\t')) --b;
    t.line_start = b == 0 || text[b - 1] == '\n';
    const char prev = b == 0 ? '\n' : text[b - 1];
    t.sentence_start = t.line_start || prev == '.' || prev == '!' || prev == '?' || prev == ':' ||
                       prev == '"' || prev == '*' || prev == '>' || prev == '#' ||
                       (prev == '-' && (b < 2 || text[b - 2] == '\n' || text[b - 2] == ' '));
    t.single_space_before =
        start >= 1 && text[start - 1] == ' ' && !tokens.empty() && tokens.back().end == start - 1;
    tokens.push_back(std::move(t));
  }
  return tokens;
}

// Text of the line before the token's line, trimmed and lower case, without end punctuation.
std::string PreviousLine(std::string_view text, size_t pos) {
  size_t line = text.rfind('\n', pos == 0 ? 0 : pos - 1);
  if (line == std::string_view::npos || line == 0) return "";
  size_t prev = text.rfind('\n', line - 1);
  prev = prev == std::string_view::npos ? 0 : prev + 1;
  std::string s = Lowercase(text.substr(prev, line - prev));
  while (!s.empty() && (s.back() == ' ' || s.back() == ',' || s.back() == '!' || s.back() == '.' ||
                        s.back() == '\r' || s.back() == '-')) {
    s.pop_back();
  }
  size_t f = 0;
  while (f < s.size() && s[f] == ' ') ++f;
  return s.substr(f);
}

// True when the token follows "Label:" on its line, first or after a list separator.
bool InFieldList(std::string_view text, const Token& t) {
  size_t line = text.rfind('\n', t.start == 0 ? 0 : t.start - 1);
  line = (line == std::string_view::npos || t.start == 0) ? 0 : line + 1;
  // Labels are short: look for the colon in the first 21 bytes of the line only.
  const size_t colon = text.substr(0, std::min(t.start, line + 21)).find(':', line);
  if (colon == std::string_view::npos) return false;
  std::string label = Lowercase(text.substr(line, colon - line));
  while (!label.empty() && label.back() == ' ') label.pop_back();
  size_t f = 0;
  while (f < label.size() && (label[f] == ' ' || label[f] == '-' || label[f] == '*')) ++f;
  if (!In(kFieldLabels, std::string_view(label).substr(f))) return false;
  size_t b = t.start;
  while (b > colon + 1 && text[b - 1] == ' ') --b;
  const char prev = text[b - 1];
  return prev == ':' || prev == ',' || prev == ';' || prev == '&' ||
         (b >= 4 && Lowercase(text.substr(b - 4, 4)) == " and");
}

}  // namespace

void ScanPersons(std::string_view text, const Lexicon& lex, const std::vector<PiiSpan>& taken,
                 std::vector<PiiSpan>& out) {
  std::vector<Token> all = Tokenize(text);
  // Drop tokens that lie inside structured spans (e-mail, URL, client...).
  std::vector<Token> tokens;
  tokens.reserve(all.size());
  size_t ti = 0;
  for (Token& t : all) {
    while (ti < taken.size() && taken[ti].end <= t.start) ++ti;
    if (ti < taken.size() && taken[ti].start < t.end) continue;
    if (t.cap || t.all_caps) {
      const uint8_t flags = lex.Flags(t.folded);
      t.dict_word = flags & Lexicon::kWord;
      t.first_name = t.end - t.start >= 2 && (flags & Lexicon::kFirstName);
      t.surname = t.end - t.start >= 2 && (flags & Lexicon::kSurname);
      t.proper_noun = flags & Lexicon::kProperNoun;
    }
    tokens.push_back(std::move(t));
  }
  auto dict = [](const Token& t) { return t.dict_word; };
  auto first = [](const Token& t) { return t.first_name; };
  auto sur = [](const Token& t) { return t.surname; };
  // Adjacent within the filtered tokens: a dropped e-mail between two words breaks a name.
  auto adjacent = [&](size_t j) {
    return j > 0 && j < tokens.size() && tokens[j].single_space_before &&
           tokens[j - 1].end + 1 == tokens[j].start;
  };
  auto name_like = [&](const Token& t) {
    return (t.cap || t.all_caps) && !In(kCalendar, t.folded) && (sur(t) || first(t) || !dict(t));
  };

  // Words that also appear as parts of e-mail local parts ("kamal@", "anna.schmidt@") are
  // names when they appear capitalised in the text.
  std::unordered_set<std::string> mail_names;
  for (const PiiSpan& s : taken) {
    if (s.type != EntityType::kEmail) continue;
    const std::string_view mail = text.substr(s.start, s.end - s.start);
    const std::string local = Lowercase(mail.substr(0, mail.find('@')));
    size_t a = 0;
    for (size_t b = 0; b <= local.size(); ++b) {
      if (b == local.size() || !IsAlpha(local[b])) {
        if (b - a >= 3) mail_names.insert(local.substr(a, b - a));
        a = b + 1;
      }
    }
  }
  auto fold = [&](Token& t) -> const std::string& {
    if (t.folded.empty()) t.folded = Lowercase(text.substr(t.start, t.end - t.start));
    return t.folded;
  };
  std::unordered_map<std::string, bool> found;  // folded word -> is an ordinary word too
  std::vector<bool> in_name(tokens.size(), false);
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    if (!(t.cap || t.all_caps) || in_name[i]) continue;
    const bool f = first(t), d = dict(t), calendar = In(kCalendar, t.folded);
    Token* prev = i > 0 ? &tokens[i - 1] : nullptr;
    if (prev) fold(*prev);
    const bool near_prev =
        prev && t.start - prev->end <= 3 &&
        text.substr(prev->end, t.start - prev->end).find('\n') == std::string_view::npos;
    const bool title = near_prev && In(kTitles, prev->folded);
    const bool greeting = near_prev && In(kGreetings, prev->folded) && prev->line_start;
    const bool signature = t.line_start && In(kClosings, PreviousLine(text, t.start));
    const bool field = InFieldList(text, t);
    // A chat log line: "[11:38] Waqar: ..."
    const bool speaker = t.end < text.size() && text[t.end] == ':' && t.start >= 2 &&
                         text[t.start - 1] == ' ' && text[t.start - 2] == ']';
    const bool strong = title || greeting || signature || field || speaker;
    const bool mail_name = mail_names.count(t.folded) > 0 && !d;
    const bool cue = near_prev && In(kPersonCues, prev->folded) && !t.sentence_start;
    const bool next_name = adjacent(i + 1) && name_like(tokens[i + 1]);
    const bool next_surname = adjacent(i + 1) && tokens[i + 1].cap && sur(tokens[i + 1]);
    const bool possessive = t.end + 1 < text.size() && text[t.end] == '\'' &&
                            (text[t.end + 1] == 's' || text[t.end + 1] == 'S');
    bool start = false;
    if (t.all_caps) {
      start = f && !d && t.end - t.start >= 3;
    } else if (strong) {
      start = f || sur(t) || !d || next_name;
    } else if (f && !calendar) {
      start = !d || next_surname || (next_name && !tokens[i + 1].sentence_start) ||
              (!t.sentence_start && possessive);
    } else if (!calendar && next_surname && t.end - t.start >= 3 && (!d || !t.sentence_start)) {
      start = true;  // an unknown first name before a known surname
    } else if (mail_name) {
      start = true;
    } else if (cue && !d && !calendar && t.end - t.start >= 3 && !t.proper_noun &&
               !(adjacent(i + 1) && (tokens[i + 1].cap || tokens[i + 1].all_caps))) {
      start = true;  // "ask Jing whether": not a word, not a known place or brand
    }
    if (!start) continue;
    size_t last = i;
    for (size_t j = i + 1; j < tokens.size() && j <= i + 3 && adjacent(j); ++j) {
      const Token& u = tokens[j];
      // A capitalised word right after a known first name, mid-sentence, is a surname even
      // when it is also an ordinary word: "Jane Roe", "Tom Baker", "Anna Smith".
      const bool after_first_name =
          j == i + 1 && first(t) && u.cap && !u.sentence_start && !In(kCalendar, u.folded);
      if (t.all_caps ? (u.all_caps && (sur(u) || !dict(u)))
                     : (u.cap && (name_like(u) || after_first_name))) {
        last = j;
      } else if (u.lower && In(kParticles, fold(tokens[j])) && adjacent(j + 1) &&
                 tokens[j + 1].cap && !dict(tokens[j + 1])) {
        continue;  // "van der Berg": the particle joins when a name follows
      } else if (u.end - u.start == 1 && u.cap && u.end < text.size() && text[u.end] == '.') {
        continue;  // a middle initial
      } else {
        break;
      }
    }
    // Initials and particles are only kept between two name words.
    out.push_back({t.start, tokens[last].end, EntityType::kPerson});
    for (size_t j = i; j <= last; ++j) {
      in_name[j] = true;
      if (tokens[j].end - tokens[j].start >= 2 && !In(kParticles, tokens[j].folded)) {
        found.emplace(tokens[j].folded, dict(tokens[j]));
      }
    }
    i = last;
  }
  if (found.empty()) return;
  // Other mentions of the words of found names, in any case.
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (in_name[i]) continue;
    Token& t = tokens[i];
    auto it = found.find(fold(t));
    if (it == found.end()) continue;
    const bool ordinary = it->second;
    bool hit = false;
    if (t.cap) {
      hit = !ordinary || !t.sentence_start;
    } else if (t.all_caps) {
      hit = !ordinary;
    } else if (t.lower) {
      hit = !ordinary && t.end - t.start >= 3;
    }
    if (!hit) continue;
    in_name[i] = true;
    if (i > 0 && !out.empty() && out.back().type == EntityType::kPerson && in_name[i - 1] &&
        adjacent(i) && out.back().end == tokens[i - 1].end) {
      out.back().end = t.end;  // "ANNA SCHMIDT" stays one span
    } else {
      out.push_back({t.start, t.end, EntityType::kPerson});
    }
  }
}

}  // namespace chorus::privacy
