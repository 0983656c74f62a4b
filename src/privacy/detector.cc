// The PII detector: runs every scanner, then keeps the best non-overlapping spans. Structured
// values (validated by checksums or plans) outrank names, so "anna.schmidt@x.com" is one e-mail
// and not a person inside an address.
#include <algorithm>
#include <fstream>

#include "privacy/scan.h"

namespace chorus {
namespace {

using privacy::EntityMatcher;
using privacy::Lexicon;

int Priority(EntityType t) {
  switch (t) {
    case EntityType::kEmail:
      return 0;
    case EntityType::kUrl:
      return 1;
    case EntityType::kIban:
      return 2;
    case EntityType::kCreditCard:
      return 3;
    case EntityType::kSsn:
      return 4;
    case EntityType::kIp:
      return 5;
    case EntityType::kDateOfBirth:
      return 6;
    case EntityType::kPhone:
      return 7;
    case EntityType::kClient:
      return 8;
    case EntityType::kAddress:
      return 9;
    case EntityType::kPerson:
      return 10;
  }
  return 11;
}

// Greedy by priority, then length: a span is kept when it overlaps none kept before.
std::vector<PiiSpan> Resolve(std::vector<PiiSpan> spans) {
  std::sort(spans.begin(), spans.end(), [](const PiiSpan& a, const PiiSpan& b) {
    if (Priority(a.type) != Priority(b.type)) return Priority(a.type) < Priority(b.type);
    if (a.end - a.start != b.end - b.start) return a.end - a.start > b.end - b.start;
    return a.start < b.start;
  });
  std::vector<PiiSpan> kept;
  for (const PiiSpan& s : spans) {
    auto it = std::lower_bound(kept.begin(), kept.end(), s, [](const PiiSpan& a, const PiiSpan& b) {
      return a.start < b.start;
    });
    const bool clash = (it != kept.end() && it->start < s.end) ||
                       (it != kept.begin() && std::prev(it)->end > s.start);
    if (!clash && s.end > s.start) kept.insert(it, s);
  }
  return kept;
}

class PiiDetectorImpl : public PiiDetector {
 public:
  PiiDetectorImpl(Lexicon lexicon, const std::vector<std::string>& entities)
      : lexicon_(std::move(lexicon)), entities_(entities) {}

  std::vector<PiiSpan> Detect(std::string_view text) const override {
    std::vector<PiiSpan> spans;
    privacy::ScanEmails(text, spans);
    privacy::ScanUrls(text, spans);
    privacy::ScanIbans(text, spans);
    privacy::ScanNumbers(text, spans);
    privacy::ScanIps(text, spans);
    privacy::ScanDatesOfBirth(text, spans);
    privacy::ScanAddresses(text, spans);
    entities_.Scan(text, spans);
    std::vector<PiiSpan> structured = Resolve(std::move(spans));
    std::vector<PiiSpan> persons;
    privacy::ScanPersons(text, lexicon_, structured, persons);
    structured.insert(structured.end(), persons.begin(), persons.end());
    return Resolve(std::move(structured));
  }

 private:
  Lexicon lexicon_;
  EntityMatcher entities_;
};

}  // namespace

Result<std::unique_ptr<PiiDetector>> PiiDetector::Make(PiiDetectorOptions options) {
  auto lexicon = privacy::LoadLexicon(options.data_dir, options.dictionary_path);
  if (!lexicon) return Err(lexicon.error());
  return std::unique_ptr<PiiDetector>(
      std::make_unique<PiiDetectorImpl>(std::move(*lexicon), options.entities));
}

Result<std::vector<std::string>> ReadEntitiesFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Err(Status::NotFound("cannot read entities file " + path));
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    size_t f = 0;
    while (f < line.size() && line[f] == ' ') ++f;
    if (f < line.size() && line[f] != '#') names.push_back(line.substr(f));
  }
  return names;
}

}  // namespace chorus
