// `chorus frameworks`: list, show and search the framework library. Reads YAML only; never
// contacts a model or the store.
#include "cli/frameworks_command.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "chorus/frameworks.h"
#include "cli/cli_common.h"

namespace chorus::cli {
namespace {

using nlohmann::json;

json Summary(const Framework& fw) {
  return {{"id", fw.id},
          {"name", fw.name},
          {"meta_category", fw.meta_category},
          {"category", fw.category}};
}

json Full(const Framework& fw) {
  json out = Summary(fw);
  out["summary"] = fw.summary;
  out["triggers"] = fw.triggers;
  out["examples"] = fw.examples;
  out["instructions"] = fw.instructions;
  json shape = {{"format", fw.output.format == OutputFormat::kJson ? "json" : "markdown"}};
  if (fw.output.format == OutputFormat::kJson) {
    shape["schema"] = fw.output.schema;
  } else {
    shape["sections"] = fw.output.sections;
  }
  if (!fw.output.description.empty()) shape["description"] = fw.output.description;
  out["output"] = std::move(shape);
  out["source"] = fw.source;
  return out;
}

void Print(const json& j) { std::printf("%s\n", j.dump(2).c_str()); }

// "2", "2.3" or "2.3.5": one to three dot-separated positive numbers.
bool IsIdPrefix(const std::string& s) {
  if (s.empty()) return true;
  int parts = 1;
  bool digit_seen = false;
  for (char c : s) {
    if (c == '.') {
      if (!digit_seen || ++parts > 3) return false;
      digit_seen = false;
    } else if (c >= '0' && c <= '9') {
      digit_seen = true;
    } else {
      return false;
    }
  }
  return digit_seen;
}

int List(const FrameworkLibrary& lib, const FrameworksArgs& args) {
  if (!IsIdPrefix(args.prefix)) {
    std::fprintf(stderr,
                 "chorus frameworks list: expected a meta-category or category such as '2' or "
                 "'2.3', found '%s'\n",
                 args.prefix.c_str());
    return kExitUsage;
  }
  auto frameworks = lib.List(args.prefix);
  if (frameworks.empty()) {
    std::fprintf(stderr, "chorus frameworks list: no frameworks under '%s' (%zu in the library)\n",
                 args.prefix.c_str(), lib.size());
    return kExitUsage;
  }
  if (args.json) {
    json out = json::array();
    for (const Framework* fw : frameworks) out.push_back(Summary(*fw));
    Print(out);
    return kExitOk;
  }
  std::string meta, category;
  for (const Framework* fw : frameworks) {
    std::string meta_id = fw->id.substr(0, fw->id.find('.'));
    std::string category_id = fw->id.substr(0, fw->id.rfind('.'));
    if (meta_id + fw->meta_category != meta) {
      meta = meta_id + fw->meta_category;
      std::printf("%s%s  %s\n", category.empty() ? "" : "\n", meta_id.c_str(),
                  fw->meta_category.c_str());
    }
    if (category_id + fw->category != category) {
      category = category_id + fw->category;
      std::printf("  %-6s %s\n", category_id.c_str(), fw->category.c_str());
    }
    std::printf("    %-8s %s\n", fw->id.c_str(), fw->name.c_str());
  }
  return kExitOk;
}

int Show(const FrameworkLibrary& lib, const FrameworksArgs& args) {
  const Framework* fw = lib.Find(args.id);
  if (!fw) {
    std::fprintf(stderr,
                 "chorus frameworks show: no framework with id '%s' (ids look like 2.3.5; "
                 "`chorus frameworks list` shows them all)\n",
                 args.id.c_str());
    return kExitUsage;
  }
  if (args.json) {
    Print(Full(*fw));
    return kExitOk;
  }
  std::printf("%s  %s\n%s > %s\n\n%s\n\n", fw->id.c_str(), fw->name.c_str(),
              fw->meta_category.c_str(), fw->category.c_str(), fw->summary.c_str());
  std::printf("When to use it:\n");
  for (const std::string& t : fw->triggers) std::printf("  - %s\n", t.c_str());
  std::printf("Example requests:\n");
  for (const std::string& e : fw->examples) std::printf("  - %s\n", e.c_str());
  std::printf("\nSteps:\n");
  for (size_t i = 0; i < fw->instructions.size(); ++i) {
    std::printf("  %zu. %s\n", i + 1, fw->instructions[i].c_str());
  }
  if (fw->output.format == OutputFormat::kJson) {
    std::printf("\nOutput: JSON matching\n%s\n", fw->output.schema.dump(2).c_str());
  } else {
    std::printf("\nOutput: markdown with sections\n");
    for (const std::string& s : fw->output.sections) std::printf("  ## %s\n", s.c_str());
  }
  return kExitOk;
}

int Search(const FrameworkLibrary& lib, const FrameworksArgs& args) {
  auto hits = lib.Search(args.query, static_cast<size_t>(args.k));
  if (args.json) {
    json out = json::array();
    for (const SearchHit& h : hits) {
      json j = Summary(*h.framework);
      j["score"] = h.score;
      out.push_back(std::move(j));
    }
    Print(out);
    return kExitOk;
  }
  if (hits.empty()) {
    std::fprintf(stderr, "no framework matches \"%s\"\n", args.query.c_str());
    return kExitOk;
  }
  for (const SearchHit& h : hits) {
    std::printf("%6.2f  %-8s %s  (%s)\n", h.score, h.framework->id.c_str(),
                h.framework->name.c_str(), h.framework->category.c_str());
  }
  return kExitOk;
}

}  // namespace

CLI::App* AddFrameworksCommand(CLI::App& app, FrameworksArgs* args) {
  CLI::App* cmd = app.add_subcommand("frameworks", "List, show and search the framework library");
  cmd->require_subcommand(1);
  auto common = [args](CLI::App* sub) {
    sub->add_option("--library", args->libraries,
                    "Framework library: 'default', a directory of YAML files or a file; "
                    "repeat to layer, later ones override (default: default)")
        ->allow_extra_args(false);
    sub->add_flag("--json", args->json, "Print JSON");
  };
  args->list = cmd->add_subcommand("list", "List frameworks, optionally under M or M.C");
  args->list->add_option("prefix", args->prefix, "Meta-category or category id, e.g. 2 or 2.3");
  common(args->list);
  args->show = cmd->add_subcommand("show", "Show one framework");
  args->show->add_option("id", args->id, "Framework id, e.g. 2.3.5")->required();
  common(args->show);
  args->search = cmd->add_subcommand("search", "Rank frameworks for a request, best first");
  args->search->add_option("query", args->query, "The request, in words")->required();
  args->search->add_option("-k", args->k, "How many results (default 10)")
      ->check(CLI::PositiveNumber);
  common(args->search);
  return cmd;
}

int FrameworksCommand(const FrameworksArgs& args) {
  auto lib = FrameworkLibrary::Load(args.libraries, std::filesystem::current_path().string());
  if (!lib) {
    std::fprintf(stderr, "chorus frameworks: %s\n", lib.error().message().c_str());
    return kExitUsage;
  }
  if (args.list && *args.list) return List(*lib, args);
  if (args.show && *args.show) return Show(*lib, args);
  if (args.search && *args.search) return Search(*lib, args);
  return kExitUsage;
}

}  // namespace chorus::cli
