// The framework library: strategic-thinking frameworks (SWOT, pre-mortem, RICE...) an agent can
// be told to apply, each with when to use it, the steps to follow and the shape of its output.
// The shipped library holds 7 meta-categories x 7 categories x 7 frameworks addressed M.C.F
// ("2.3.5"); users add or replace entries with their own YAML directories. Search ranks
// frameworks for a free-text request with BM25 over name, triggers, examples and summary.
//
// A FrameworkLibrary is immutable once loaded: every const method may be called from many
// threads at once. Pointers it returns stay valid as long as the library (moves included).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chorus/brief.h"
#include "chorus/status.h"

namespace chorus {

struct Framework {
  std::string id;                         // "M.C.F", e.g. "2.3.5"
  std::string name;                       // "Porter's five forces"
  std::string meta_category;              // the name of M, e.g. "Strategy & positioning"
  std::string category;                   // the name of M.C, e.g. "Competitive analysis"
  std::string summary;                    // one paragraph: what it is and what it is good for
  std::vector<std::string> triggers;      // phrases in a request that call for it
  std::vector<std::string> examples;      // requests it answers well
  std::vector<std::string> instructions;  // the steps an agent follows, in order
  ExpectedOutput output;                  // markdown sections or a JSON Schema
  std::string source;                     // "path/1-sensing.yaml:12:7": where it was defined
};

struct SearchHit {
  const Framework* framework = nullptr;
  double score = 0;  // BM25; only meaningful relative to other hits of the same query
};

class FrameworkLibrary {
 public:
  // Loads `sources` in order; a later source replaces entries with the same id and adds new
  // ids. A source is "default" (DefaultDir()), a directory (every *.yaml / *.yml in it, by
  // name) or one YAML file; relative paths are resolved against `base_dir`. Every problem in
  // every file is reported in one kInvalidArgument Status, one "file:line:col: ..." per line.
  static Result<FrameworkLibrary> Load(const std::vector<std::string>& sources,
                                       const std::string& base_dir);

  // $CHORUS_FRAMEWORKS_DIR if set, else the frameworks/default folder of the source tree.
  static std::string DefaultDir();

  FrameworkLibrary();
  FrameworkLibrary(FrameworkLibrary&&) noexcept;
  FrameworkLibrary& operator=(FrameworkLibrary&&) noexcept;
  ~FrameworkLibrary();

  // nullptr when no framework has that id.
  const Framework* Find(std::string_view id) const;
  // Frameworks whose id starts with the id prefix `prefix` ("2" or "2.3"; "" lists all), in
  // id order (numerically: 2.10.1 after 2.9.1).
  std::vector<const Framework*> List(std::string_view prefix = "") const;
  // The at most `k` frameworks best matching `query`, best first; ties go to the smaller id.
  // Frameworks that share no term with the query are not returned.
  std::vector<SearchHit> Search(std::string_view query, size_t k) const;

  size_t size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chorus
