// FrameworkLibrary: loading sources in order with overrides, listing by id prefix, and search
// through a Bm25Index built once at load.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "chorus/frameworks.h"
#include "route/bm25_index.h"
#include "route/framework_file.h"

#ifndef CHORUS_SOURCE_DIR
#define CHORUS_SOURCE_DIR "."
#endif

namespace chorus {
namespace {

namespace fs = std::filesystem;

// Field weights: a request that names a framework or uses its trigger phrases is a far
// stronger signal than a word shared with the summary's prose.
constexpr double kNameWeight = 3.0;
constexpr double kTriggerWeight = 2.5;
constexpr double kExampleWeight = 1.5;
constexpr double kSummaryWeight = 1.0;
constexpr double kCategoryWeight = 0.5;

// "2.10.1" sorts after "2.9.1".
std::vector<int> IdParts(const std::string& id) {
  std::vector<int> parts;
  std::istringstream in(id);
  std::string part;
  while (std::getline(in, part, '.')) parts.push_back(std::atoi(part.c_str()));
  return parts;
}

bool IdLess(const std::string& a, const std::string& b) { return IdParts(a) < IdParts(b); }

// The YAML files of a source, in name order; a missing source is an error.
Result<std::vector<fs::path>> SourceFiles(const std::string& source, const std::string& base_dir) {
  fs::path path = source == "default" ? fs::path(FrameworkLibrary::DefaultDir()) : fs::path(source);
  if (path.is_relative()) path = fs::path(base_dir) / path;
  std::error_code ec;
  std::vector<fs::path> files;
  if (fs::is_regular_file(path, ec)) {
    files.push_back(path);
    return files;
  }
  if (!fs::is_directory(path, ec)) {
    return Err(Status::NotFound("framework library '" + source +
                                "': expected a directory or a "
                                "YAML file at " +
                                path.string() + ", found nothing"));
  }
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    std::string ext = entry.path().extension().string();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(entry.path());
  }
  if (ec) {
    return Err(Status::Unavailable("framework library '" + source + "': cannot list " +
                                   path.string() + ": " + ec.message()));
  }
  if (files.empty()) {
    return Err(Status::NotFound("framework library '" + source + "': expected *.yaml files in " +
                                path.string() + ", found none"));
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

struct FrameworkLibrary::Impl {
  std::vector<Framework> frameworks;  // id order
  std::map<std::string, size_t, std::less<>> by_id;
  route::Bm25Index index;
};

FrameworkLibrary::FrameworkLibrary() : impl_(std::make_unique<Impl>()) {}
FrameworkLibrary::FrameworkLibrary(FrameworkLibrary&&) noexcept = default;
FrameworkLibrary& FrameworkLibrary::operator=(FrameworkLibrary&&) noexcept = default;
FrameworkLibrary::~FrameworkLibrary() = default;

std::string FrameworkLibrary::DefaultDir() {
  const char* env = std::getenv("CHORUS_FRAMEWORKS_DIR");
  if (env && *env) return env;
  return std::string(CHORUS_SOURCE_DIR) + "/frameworks/default";
}

Result<FrameworkLibrary> FrameworkLibrary::Load(const std::vector<std::string>& sources,
                                                const std::string& base_dir) {
  if (sources.empty()) {
    return Err(Status::InvalidArgument("expected at least one framework library, found none"));
  }
  std::map<std::string, Framework, decltype(&IdLess)> merged(&IdLess);
  std::vector<std::string> errors;
  for (const std::string& source : sources) {
    auto files = SourceFiles(source, base_dir);
    if (!files) return Err(files.error());
    // Within one source an id is defined once; across sources the later one wins.
    std::map<std::string, std::string> defined_at;
    for (const fs::path& file : *files) {
      std::ifstream in(file, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      if (!in) {
        errors.push_back(file.string() + ": cannot read the file");
        continue;
      }
      route::FrameworkFile parsed = route::ParseFrameworkFile(text.str(), file.string());
      errors.insert(errors.end(), parsed.errors.begin(), parsed.errors.end());
      for (Framework& fw : parsed.frameworks) {
        auto [it, fresh] = defined_at.emplace(fw.id, fw.source);
        if (!fresh) {
          errors.push_back(fw.source + ": duplicate framework id '" + fw.id +
                           "' (first defined at " + it->second + ")");
          continue;
        }
        merged.insert_or_assign(fw.id, std::move(fw));
      }
    }
  }
  if (!errors.empty()) {
    std::string message;
    for (const std::string& e : errors) message += (message.empty() ? "" : "\n") + e;
    return Err(Status::InvalidArgument(std::move(message)));
  }
  FrameworkLibrary lib;
  for (auto& [id, fw] : merged) {
    lib.impl_->by_id.emplace(id, lib.impl_->frameworks.size());
    lib.impl_->frameworks.push_back(std::move(fw));
  }
  for (const Framework& fw : lib.impl_->frameworks) {
    std::string triggers, examples;
    for (const std::string& t : fw.triggers) triggers += t + "\n";
    for (const std::string& e : fw.examples) examples += e + "\n";
    lib.impl_->index.Add({{fw.name, kNameWeight},
                          {triggers, kTriggerWeight},
                          {examples, kExampleWeight},
                          {fw.summary, kSummaryWeight},
                          {fw.category, kCategoryWeight}});
  }
  return lib;
}

const Framework* FrameworkLibrary::Find(std::string_view id) const {
  auto it = impl_->by_id.find(id);
  return it == impl_->by_id.end() ? nullptr : &impl_->frameworks[it->second];
}

std::vector<const Framework*> FrameworkLibrary::List(std::string_view prefix) const {
  std::vector<const Framework*> out;
  for (const Framework& fw : impl_->frameworks) {
    bool match = prefix.empty() || fw.id == prefix ||
                 (fw.id.size() > prefix.size() && fw.id.compare(0, prefix.size(), prefix) == 0 &&
                  fw.id[prefix.size()] == '.');
    if (match) out.push_back(&fw);
  }
  return out;
}

std::vector<SearchHit> FrameworkLibrary::Search(std::string_view query, size_t k) const {
  std::vector<SearchHit> hits;
  for (const auto& hit : impl_->index.Search(query, k)) {
    hits.push_back({&impl_->frameworks[hit.doc], hit.score});
  }
  return hits;
}

size_t FrameworkLibrary::size() const { return impl_->frameworks.size(); }

}  // namespace chorus
