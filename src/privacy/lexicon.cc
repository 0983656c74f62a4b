// Loading the name gazetteers shipped in data/privacy and the system dictionary of ordinary
// words.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "privacy/scan.h"

namespace chorus::privacy {
namespace {

// Adds `flag` to every word of the file; a dictionary (lowercase_only) marks lower-case entries
// kWord and capitalised ones kProperNoun.
Status ReadWords(const std::string& path, bool lowercase_only, uint8_t flag, Lexicon& lex) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read word list " + path);
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    // The dictionary lists proper nouns capitalised; only lower-case entries are ordinary words.
    if (lowercase_only && line.find('\'') != std::string::npos) continue;
    if (lowercase_only && !IsLower(line[0])) {
      if (IsUpper(line[0])) lex.words[Lowercase(line)] |= Lexicon::kProperNoun;
      continue;
    }
    lex.words[Lowercase(line)] |= flag;
  }
  return Status::Ok();
}

}  // namespace

Result<Lexicon> LoadLexicon(const std::string& data_dir, const std::string& dictionary_path) {
  std::string dir = data_dir;
  if (dir.empty()) {
    const char* env = std::getenv("CHORUS_PRIVACY_DATA");
    dir = env && *env ? env : std::string(CHORUS_SOURCE_DIR) + "/data/privacy";
  }
  Lexicon lex;
  lex.words.max_load_factor(0.5);
  lex.words.reserve(200000);
  if (Status s = ReadWords(dir + "/first_names.txt", false, Lexicon::kFirstName, lex); !s.ok()) {
    return Err(Status::NotFound(s.message() + " (set CHORUS_PRIVACY_DATA to the folder holding "
                                              "first_names.txt and surnames.txt)"));
  }
  if (Status s = ReadWords(dir + "/surnames.txt", false, Lexicon::kSurname, lex); !s.ok())
    return Err(s);
  std::string dict = dictionary_path;
  if (dict.empty() && std::filesystem::exists("/usr/share/dict/words")) {
    dict = "/usr/share/dict/words";
  }
  if (!dict.empty()) {
    if (Status s = ReadWords(dict, true, Lexicon::kWord, lex); !s.ok()) return Err(s);
  }
  return lex;
}

}  // namespace chorus::privacy
