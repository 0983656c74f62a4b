// `chorus redact FILE [--entity NAME]... [--entities-file F] [--json] [--reveal-mapping]`
#include "cli/redact_command.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "chorus/privacy.h"
#include "cli/cli_common.h"

namespace chorus::cli {
namespace {

struct RedactArgs {
  std::string file;  // "-" reads standard input
  std::vector<std::string> entities;
  std::vector<std::string> entities_files;
  bool json = false;
  bool reveal_mapping = false;
};

Result<std::string> ReadInput(const std::string& path) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(Status::NotFound("cannot read " + path + ": expected a readable file or -"));
  text << in.rdbuf();
  return text.str();
}

int Redact(const RedactArgs& args) {
  PiiDetectorOptions options;
  options.entities = args.entities;
  for (const std::string& f : args.entities_files) {
    auto names = ReadEntitiesFile(f);
    if (!names) {
      std::fprintf(stderr, "chorus redact: %s\n", names.error().message().c_str());
      return kExitUsage;
    }
    options.entities.insert(options.entities.end(), names->begin(), names->end());
  }
  auto text = ReadInput(args.file);
  if (!text) {
    std::fprintf(stderr, "chorus redact: %s\n", text.error().message().c_str());
    return kExitUsage;
  }
  auto detector = PiiDetector::Make(std::move(options));
  if (!detector) {
    std::fprintf(stderr, "chorus redact: %s\n", detector.error().message().c_str());
    return kExitRunFailed;
  }
  const std::vector<PiiSpan> spans = (*detector)->Detect(*text);
  Vault vault;
  const std::string anonymized = vault.Anonymize(*text, spans);
  nlohmann::json mapping = nlohmann::json::array();
  if (args.reveal_mapping) {
    for (const Vault::Entry& e : vault.Entries()) {
      mapping.push_back(
          {{"pseudonym", e.pseudonym}, {"value", e.value}, {"type", EntityTypeName(e.type)}});
    }
  }
  if (args.json) {
    nlohmann::json out = {{"anonymized", anonymized}, {"spans", nlohmann::json::array()}};
    for (const PiiSpan& s : spans) {
      out["spans"].push_back(
          {{"start", s.start}, {"end", s.end}, {"type", EntityTypeName(s.type)}});
    }
    if (args.reveal_mapping) out["mapping"] = mapping;
    // Invalid UTF-8 in the input must not abort the dump.
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  std::fwrite(anonymized.data(), 1, anonymized.size(), stdout);
  // The mapping goes to standard error so that standard output stays the redacted document.
  for (const auto& m : mapping) {
    std::fprintf(stderr, "%s\t%s\t%s\n", m["pseudonym"].get<std::string>().c_str(),
                 m["type"].get<std::string>().c_str(), m["value"].get<std::string>().c_str());
  }
  return kExitOk;
}

}  // namespace

CLI::App* AddRedactCommand(CLI::App& app, std::function<int()>* run) {
  auto args = std::make_shared<RedactArgs>();
  CLI::App* cmd = app.add_subcommand("redact", "Replace personal data in a document by pseudonyms");
  cmd->add_option("file", args->file, "Document to redact (- reads standard input)")->required();
  cmd->add_option("--entity", args->entities, "A client or other name to redact (repeatable)");
  cmd->add_option("--entities-file", args->entities_files, "File with one entity name per line")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--json", args->json, "Print {\"anonymized\", \"spans\"} as one JSON object");
  cmd->add_flag("--reveal-mapping", args->reveal_mapping,
                "Also print pseudonym -> value (JSON: \"mapping\"; text: on standard error)");
  *run = [args] { return Redact(*args); };
  return cmd;
}

}  // namespace chorus::cli
