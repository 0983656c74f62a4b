// Privacy: finding personal data in text and replacing it with stable pseudonyms.
//
// A PiiDetector scans UTF-8 text and returns non-overlapping spans (byte offsets) typed as
// PERSON, CLIENT, EMAIL, PHONE, CREDIT_CARD, IBAN, SSN, IP, URL, ADDRESS or DATE_OF_BIRTH.
// Structured values are validated (Luhn and IIN ranges, IBAN mod-97 and country length, SSN
// ranges, phone numbering-plan lengths); names come from a shipped first-name gazetteer, a
// surname list and context (titles, greetings, signatures, header fields), with ordinary words
// rejected through a dictionary. A Vault maps each value to a pseudonym such as <PERSON_1> and
// back; it is per run and never leaves the local machine.
//
// Thread-safety: a PiiDetector is immutable once made; Detect() may be called from any number
// of threads at once. A Vault serialises its own state: Anonymize() and Restore() may be called
// concurrently from several threads.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chorus/status.h"

namespace chorus {

enum class EntityType {
  kPerson,
  kClient,
  kEmail,
  kPhone,
  kCreditCard,
  kIban,
  kSsn,
  kIp,
  kUrl,
  kAddress,
  kDateOfBirth,
};
inline constexpr int kEntityTypeCount = 11;

// "PERSON", "CREDIT_CARD", ...
std::string_view EntityTypeName(EntityType type);
// Inverse of EntityTypeName; nullopt-like failure as a Status naming the accepted names.
Result<EntityType> ParseEntityType(std::string_view name);

struct PiiSpan {
  size_t start = 0;  // byte offset of the first byte
  size_t end = 0;    // byte offset one past the last byte
  EntityType type = EntityType::kPerson;
  bool operator==(const PiiSpan&) const = default;
};

struct PiiDetectorOptions {
  // The team's own entities (clients, projects): matched in any case, with or without a legal
  // suffix (Inc, Ltd, GmbH, SA, LLC...). Reported as CLIENT.
  std::vector<std::string> entities;
  // Directory holding first_names.txt and surnames.txt; empty: $CHORUS_PRIVACY_DATA, else the
  // data/privacy folder of the source tree.
  std::string data_dir;
  // Dictionary of ordinary words (one per line) used to reject capitalised common words; empty:
  // /usr/share/dict/words when present. A missing dictionary weakens rejection, it is no error.
  std::string dictionary_path;
};

class PiiDetector {
 public:
  // Loads the gazetteers; fails with the path when a data file cannot be read.
  static Result<std::unique_ptr<PiiDetector>> Make(PiiDetectorOptions options);
  virtual ~PiiDetector() = default;

  // Spans sorted by start, never overlapping.
  virtual std::vector<PiiSpan> Detect(std::string_view text) const = 0;
};

// Sensitivity labels, ordered: a value labelled L may be read in clear only by an agent cleared
// for L on an endpoint allowed to receive L. Unlabelled values are public.
enum class Label { kPublic, kInternal, kConfidential };
std::string_view LabelName(Label label);  // "public", "internal", "confidential"
// Inverse of LabelName; the error names the three labels and suggests the nearest.
Result<Label> ParseLabel(std::string_view name);

// Reads an entities file: one name per line; blank lines and lines starting with '#' skipped.
Result<std::vector<std::string>> ReadEntitiesFile(const std::string& path);

// A run's pseudonym table. Equal values get equal pseudonyms (<TYPE_N>); names and clients
// compare case-insensitively, and a second spelling of the same entity (ANNA after Anna) gets
// <TYPE_N.K> so that Restore gives back exactly the bytes that were replaced.
class Vault {
 public:
  struct Entry {
    std::string pseudonym;  // "<PERSON_1>" or "<PERSON_1.2>"
    std::string value;      // the original bytes
    EntityType type;
  };

  // Replaces every span (sorted, non-overlapping, within text) by its pseudonym.
  std::string Anonymize(std::string_view text, const std::vector<PiiSpan>& spans);
  // Replaces every pseudonym this vault issued by its value; other text is left untouched.
  // Pseudonyms are never issued with a number that already appears literally in the text being
  // anonymized, so Restore(Anonymize(x)) == x even when x contains "<PERSON_7>".
  std::string Restore(std::string_view text) const;
  // Pseudonym for one value, issuing it if new.
  std::string Pseudonymize(std::string_view value, EntityType type);
  // Re-adds an entry issued earlier (by this run before a restart), keeping its pseudonym, so
  // a resumed run speaks of the same <PERSON_1>. Fails on a malformed pseudonym or one that
  // is already taken by another value.
  Status Reload(const Entry& entry);

  std::vector<Entry> Entries() const;  // in issue order
  size_t size() const;

 private:
  std::string PseudonymizeLocked(std::string_view value, EntityType type, std::string_view source);

  mutable std::mutex mu_;
  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> by_value_;      // type + exact value -> entry
  std::unordered_map<std::string, int> entity_number_;    // type + folded value -> N
  std::unordered_map<std::string, int> spellings_;        // type + folded value -> spellings
  std::unordered_map<std::string, size_t> by_pseudonym_;  // pseudonym -> entry
  int next_number_[kEntityTypeCount] = {};
};

}  // namespace chorus
