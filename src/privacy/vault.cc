// The pseudonym vault: value <-> <TYPE_N> for one run.
#include <algorithm>
#include <charconv>

#include "chorus/privacy.h"
#include "privacy/scan.h"

namespace chorus {
namespace {

bool FoldsCase(EntityType t) {
  return t == EntityType::kPerson || t == EntityType::kClient || t == EntityType::kEmail ||
         t == EntityType::kUrl;
}

std::string Key(EntityType t, std::string_view value) {
  return std::string(EntityTypeName(t)) + '\x1f' + std::string(value);
}

}  // namespace

std::string Vault::PseudonymizeLocked(std::string_view value, EntityType type,
                                      std::string_view source) {
  const std::string exact = Key(type, value);
  if (auto it = by_value_.find(exact); it != by_value_.end()) return entries_[it->second].pseudonym;
  const std::string folded =
      Key(type, FoldsCase(type) ? privacy::Lowercase(value) : std::string(value));
  std::string pseudonym = "<" + std::string(EntityTypeName(type)) + "_";
  auto num = entity_number_.find(folded);
  if (num == entity_number_.end()) {
    // A number whose pseudonym already appears literally in the source text is skipped, so
    // Restore never turns that literal text into a value.
    int n = ++next_number_[static_cast<int>(type)];
    while (source.find(pseudonym + std::to_string(n) + ">") != std::string_view::npos) {
      n = ++next_number_[static_cast<int>(type)];
    }
    entity_number_.emplace(folded, n);
    spellings_[folded] = 1;
    pseudonym += std::to_string(n) + ">";
  } else {
    // Another spelling of a known entity: same number, so readers see it is the same one.
    const int k = ++spellings_[folded];
    pseudonym += std::to_string(num->second) + "." + std::to_string(k) + ">";
  }
  entries_.push_back({pseudonym, std::string(value), type});
  by_value_.emplace(exact, entries_.size() - 1);
  by_pseudonym_.emplace(pseudonym, entries_.size() - 1);
  return pseudonym;
}

std::string Vault::Pseudonymize(std::string_view value, EntityType type) {
  std::lock_guard lock(mu_);
  return PseudonymizeLocked(value, type, {});
}

std::string Vault::Anonymize(std::string_view text, const std::vector<PiiSpan>& spans) {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  for (const PiiSpan& s : spans) {
    if (s.start < at || s.end > text.size() || s.end <= s.start) continue;
    out.append(text.substr(at, s.start - at));
    out += PseudonymizeLocked(text.substr(s.start, s.end - s.start), s.type, text);
    at = s.end;
  }
  out.append(text.substr(at));
  return out;
}

std::string Vault::Restore(std::string_view text) const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  for (size_t lt = text.find('<'); lt != std::string_view::npos; lt = text.find('<', lt + 1)) {
    const size_t gt = text.find('>', lt);
    if (gt == std::string_view::npos) break;
    if (gt - lt > 40) continue;
    auto it = by_pseudonym_.find(std::string(text.substr(lt, gt - lt + 1)));
    if (it == by_pseudonym_.end()) continue;
    out.append(text.substr(at, lt - at));
    out += entries_[it->second].value;
    at = gt + 1;
    lt = gt;
  }
  out.append(text.substr(at));
  return out;
}

Status Vault::Reload(const Entry& entry) {
  // "<TYPE_N>" or "<TYPE_N.K>", where TYPE is the entry's type name.
  const std::string prefix = "<" + std::string(EntityTypeName(entry.type)) + "_";
  const std::string& p = entry.pseudonym;
  int number = 0;
  int spelling = 1;
  bool well_formed = p.size() > prefix.size() + 1 && p.rfind(prefix, 0) == 0 && p.back() == '>';
  if (well_formed) {
    const char* first = p.data() + prefix.size();
    const char* last = p.data() + p.size() - 1;
    auto [end, ec] = std::from_chars(first, last, number);
    well_formed = ec == std::errc() && number > 0;
    if (well_formed && end != last) {
      well_formed = *end == '.';
      if (well_formed) {
        auto [end2, ec2] = std::from_chars(end + 1, last, spelling);
        well_formed = ec2 == std::errc() && end2 == last && spelling > 1;
      }
    }
  }
  if (!well_formed) {
    return Status::DataLoss("vault entry: expected a pseudonym like " + prefix + "1>, found '" + p +
                            "'");
  }
  std::lock_guard lock(mu_);
  if (auto it = by_pseudonym_.find(p); it != by_pseudonym_.end()) {
    if (entries_[it->second].value == entry.value) return Status::Ok();
    return Status::DataLoss("vault entry: pseudonym " + p + " is already taken by another value");
  }
  const std::string folded = Key(entry.type, FoldsCase(entry.type) ? privacy::Lowercase(entry.value)
                                                                   : std::string(entry.value));
  entity_number_.emplace(folded, number);
  spellings_[folded] = std::max(spellings_[folded], spelling);
  int& next = next_number_[static_cast<int>(entry.type)];
  next = std::max(next, number);
  entries_.push_back(entry);
  by_value_.emplace(Key(entry.type, entry.value), entries_.size() - 1);
  by_pseudonym_.emplace(p, entries_.size() - 1);
  return Status::Ok();
}

std::vector<Vault::Entry> Vault::Entries() const {
  std::lock_guard lock(mu_);
  return entries_;
}

size_t Vault::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace chorus
