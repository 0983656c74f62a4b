// ParseTeam and LoadTeamFile: the team file's document, models, inputs and agents. The flow is
// read in team_flow_loader.cc; whole-team checks live in team_check.cc.
#include "flow/team_loader.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/hash.h"
#include "core/utf8.h"
#include "flow/context_budget.h"
#include "flow/suggest.h"
#include "flow/team_route_loader.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kTeamKeys = {"name",   "version",    "description", "models",
                                            "inputs", "agents",     "flow",        "frameworks",
                                            "routes", "delegation", "privacy"};
const std::vector<std::string> kModelKeys = {
    "provider",   "model",          "base_url",  "api_key_env",
    "stream",     "limits",         "timeout_s", "connect_timeout_s",
    "max_tokens", "context_window", "price",     "locality",
    "headers",    "fallback",       "circuit",   "tokenizer"};
const std::vector<std::string> kLimitKeys = {"concurrency", "rpm", "tpm", "window_s"};
const std::vector<std::string> kCircuitKeys = {"failures", "cool_down_s"};
const std::vector<std::string> kPriceKeys = {"input_per_mtok", "output_per_mtok"};
const std::vector<std::string> kInputKeys = {"text",    "file",  "required",
                                             "default", "label", "description"};
const std::vector<std::string> kAgentKeys = {"role", "model", "clearance", "description",
                                             "context"};
const std::vector<std::string> kProviders = {"openai", "anthropic", "offline"};
const std::vector<std::string> kLocalities = {"local", "cloud"};
const std::vector<std::string> kLabels = {"public", "internal", "confidential"};
const std::vector<std::string> kInputKinds = {"text", "file"};

const std::vector<YamlReader::Unsupported> kAgentUnsupported = {};

constexpr int64_t kMaxConcurrency = 1000000;
constexpr int64_t kMaxCircuitFailures = 1000;
// Output budgets beyond this are a typo, not a plan.
constexpr int64_t kMaxOutputTokens = 1000000;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

bool IsEnvName(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

bool IsIdentifier(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
}

std::string Lowered(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Provider ProviderFromName(const std::string& name) {
  if (name == "openai") return Provider::kOpenAI;
  if (name == "anthropic") return Provider::kAnthropic;
  return Provider::kOffline;
}

class TeamParser {
 public:
  TeamParser(std::string file, fs::path base_dir)
      : r_(std::move(file)), base_dir_(std::move(base_dir)) {}

  Result<Team> Parse(std::string_view text);

 private:
  void ParseDocument(const YAML::Node& root, Team& team);
  std::optional<ModelSpec> ParseModel(const YamlEntry& entry);
  void ParseLimits(const YamlEntry& entry, EndpointConfig& endpoint);
  void ParseCircuit(const YamlEntry& entry, EndpointConfig& endpoint);
  void ParseHeaders(const YamlEntry& entry, EndpointConfig& endpoint);
  std::optional<InputSpec> ParseInput(const YamlEntry& entry);
  std::optional<AgentSpec> ParseAgent(const YamlEntry& entry);
  std::optional<int64_t> Millis(const YamlEntry& entry);

  YamlReader r_;
  fs::path base_dir_;
};

Result<Team> TeamParser::Parse(std::string_view text) {
  if (std::optional<size_t> bad = FindInvalidUtf8(text)) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(text[*bad]));
    r_.Error(LocOfOffset(text, *bad, r_.file()), "expected UTF-8 text, found the byte " +
                                                     std::string(hex) + " (byte offset " +
                                                     std::to_string(*bad) + ")");
  } else {
    std::vector<YAML::Node> documents;
    try {
      documents = YAML::LoadAll(std::string(text));
    } catch (const YAML::Exception& e) {
      SourceLoc loc{r_.file(), 0, 0};
      if (e.mark.line >= 0) loc = SourceLoc{r_.file(), e.mark.line + 1, e.mark.column + 1};
      r_.Error(loc, "invalid YAML: " + e.msg);
    }
    Team team;
    if (!r_.has_errors()) {
      if (documents.empty()) {
        r_.Error(SourceLoc{r_.file(), 1, 1},
                 "expected a team (a mapping with 'name', 'agents' and 'flow'), found an empty "
                 "file");
      } else if (documents.size() > 1) {
        r_.Error(documents[1], "expected one YAML document, found a second one");
      } else {
        ParseDocument(documents[0], team);
      }
    }
    if (!r_.has_errors()) {
      std::vector<Diagnostic> problems = CheckTeam(team);
      if (problems.empty()) return team;
      for (Diagnostic& d : problems) r_.Error(std::move(d.loc), std::move(d.message));
    }
  }
  std::string message;
  for (const Diagnostic& d : r_.TakeDiagnostics()) {
    if (!message.empty()) message += '\n';
    message += d.ToString();
  }
  return Err(Status::InvalidArgument(std::move(message)));
}

void TeamParser::ParseDocument(const YAML::Node& root, Team& team) {
  if (!root.IsMap()) {
    r_.Error(root.IsNull() ? YAML::Node() : root,
             "expected a team (a mapping with 'name', 'agents' and 'flow'), found " +
                 DescribeNode(root));
    return;
  }
  bool has_name = false;
  bool has_flow = false;
  for (const YamlEntry& e : r_.Entries(root, "a team", kTeamKeys, "the team")) {
    if (e.key == "name") {
      has_name = true;
      if (auto name = r_.String(e)) {
        if (IsIdentifier(*name)) {
          team.name = std::move(*name);
        } else {
          r_.Error(e,
                   "name: expected letters, digits, '-' and '_', found " + DescribeNode(e.value));
        }
      }
    } else if (e.key == "version") {
      if (!e.value.IsScalar() || e.value.Scalar() != "1") {
        r_.Error(
            e, "version: expected 1 (the only team file version), found " + DescribeNode(e.value));
      }
    } else if (e.key == "description") {
      r_.String(e);
    } else if (e.key == "models") {
      for (const YamlEntry& m : r_.NamedEntries(e, "models")) {
        if (auto model = ParseModel(m)) team.models.push_back(std::move(*model));
      }
    } else if (e.key == "inputs") {
      for (const YamlEntry& i : r_.NamedEntries(e, "inputs")) {
        if (auto input = ParseInput(i)) team.inputs.push_back(std::move(*input));
      }
    } else if (e.key == "agents") {
      for (const YamlEntry& a : r_.NamedEntries(e, "agents")) {
        if (auto agent = ParseAgent(a)) team.agents.push_back(std::move(*agent));
      }
    } else if (e.key == "flow") {
      has_flow = true;
      team.flow = ParseFlow(r_, e, base_dir_);
    } else if (e.key == "frameworks") {
      team.frameworks_loc = r_.Loc(e);
      team.framework_sources = ParseFrameworkSources(r_, e);
    } else if (e.key == "routes") {
      team.routes = ParseRoutes(r_, e);
    } else if (e.key == "delegation") {
      team.delegation = ParseDelegation(r_, e);
    } else if (e.key == "privacy") {
      team.privacy = ParsePrivacy(r_, e, base_dir_);
    }
  }
  if (!r_.has_errors()) LoadTeamFrameworks(r_, team, base_dir_);
  SourceLoc top{r_.file(), 1, 1};
  if (!has_name)
    r_.Error(top, "missing 'name': expected the team's name (letters, digits, '-', '_')");
  if (!has_flow) r_.Error(top, "missing 'flow': expected the list of steps the team runs");
}

std::optional<int64_t> TeamParser::Millis(const YamlEntry& entry) {
  std::optional<double> seconds = r_.Number(entry, 0, /*exclusive=*/true);
  if (!seconds) return std::nullopt;
  return std::max<int64_t>(1, std::llround(*seconds * 1000));
}

std::optional<ModelSpec> TeamParser::ParseModel(const YamlEntry& entry) {
  const std::string& name = entry.key;
  if (name == "offline") {
    r_.Error(entry.key_node,
             "model name 'offline' is reserved for the built-in offline model, which every team "
             "has without declaring it; choose another name");
    return std::nullopt;
  }
  ModelSpec spec;
  spec.loc = r_.Loc(entry.key_node);
  EndpointConfig& endpoint = spec.endpoint;
  endpoint.name = name;
  const std::string where = "model '" + name + "'";
  if (!entry.value.IsMap()) {
    r_.Error(entry, where + ": expected a mapping with 'provider' and 'model', found " +
                        DescribeNode(entry.value));
    return std::nullopt;
  }
  std::vector<YamlEntry> entries = r_.Entries(entry, kModelKeys, where);
  auto find = [&](std::string_view key) -> const YamlEntry* {
    auto it = std::find_if(entries.begin(), entries.end(),
                           [&](const YamlEntry& e) { return e.key == key; });
    return it == entries.end() ? nullptr : &*it;
  };
  // The provider decides the defaults the other keys override, so it is read first.
  const YamlEntry* provider_entry = find("provider");
  if (provider_entry == nullptr) {
    r_.Error(entry.key_node, where + ": missing 'provider': expected " + QuotedList(kProviders));
    return std::nullopt;
  }
  std::optional<std::string> provider = r_.OneOf(*provider_entry, kProviders);
  if (!provider) return std::nullopt;
  endpoint.provider = ProviderFromName(*provider);
  if (endpoint.provider == Provider::kOffline) {
    EndpointConfig offline = OfflineModelSpec().endpoint;
    offline.name = name;
    endpoint = offline;
  }
  for (const YamlEntry& e : entries) {
    if (e.key == "model") {
      if (auto id = r_.NonEmptyString(e)) endpoint.model = *id;
    } else if (e.key == "base_url") {
      std::optional<std::string> url = r_.String(e);
      if (url && url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
        r_.Error(e,
                 "base_url: expected an http:// or https:// URL, found " + DescribeNode(e.value));
        url.reset();
      }
      if (url) {
        while (url->size() > 1 && url->back() == '/') url->pop_back();
        endpoint.base_url = *url;
      }
    } else if (e.key == "api_key_env") {
      // Never echo the value: a user who misread the key may have pasted the secret itself.
      if (!e.value.IsScalar() || !IsEnvName(e.value.Scalar())) {
        r_.Error(e,
                 "api_key_env: expected the name of an environment variable (letters, digits "
                 "and '_'), found something else; the key itself belongs in the environment, "
                 "never in the team file");
      } else {
        endpoint.api_key_env = e.value.Scalar();
      }
    } else if (e.key == "stream") {
      if (auto b = r_.Bool(e)) endpoint.stream = *b;
    } else if (e.key == "limits") {
      ParseLimits(e, endpoint);
    } else if (e.key == "timeout_s") {
      if (auto ms = Millis(e)) endpoint.timeout_ms = *ms;
    } else if (e.key == "connect_timeout_s") {
      if (auto ms = Millis(e)) endpoint.connect_timeout_ms = *ms;
    } else if (e.key == "max_tokens") {
      if (auto n = r_.Integer(e, 1, kMaxOutputTokens)) {
        endpoint.max_tokens = static_cast<int>(*n);
      }
    } else if (e.key == "context_window") {
      if (auto n = r_.Integer(e, 1, kInt64Max)) endpoint.context_window = *n;
    } else if (e.key == "price") {
      Price price;
      for (const YamlEntry& p : r_.Entries(e, kPriceKeys, "price")) {
        std::optional<double> usd = r_.Number(p, 0, /*exclusive=*/false);
        if (!usd) continue;
        (p.key == "input_per_mtok" ? price.input_per_mtok : price.output_per_mtok) = *usd;
      }
      endpoint.price = price;
    } else if (e.key == "locality") {
      if (auto l = r_.OneOf(e, kLocalities)) endpoint.locality = *l;
    } else if (e.key == "headers") {
      ParseHeaders(e, endpoint);
    } else if (e.key == "fallback") {
      if (auto list = r_.StringList(e, /*allow_single=*/true)) spec.fallback = std::move(*list);
    } else if (e.key == "circuit") {
      ParseCircuit(e, endpoint);
    } else if (e.key == "tokenizer") {
      if (auto name = r_.OneOf(e, TokenizerNames())) endpoint.tokenizer = std::move(*name);
    }
  }
  if (const YamlEntry* limits = find("limits");
      limits && endpoint.tpm > 0 && endpoint.tpm <= endpoint.max_tokens) {
    // Every request is charged its prompt plus max_tokens against tpm: none could ever be sent.
    r_.Error(*limits, "limits: tpm " + std::to_string(endpoint.tpm) +
                          " leaves no room for a request: each one is charged its prompt plus "
                          "max_tokens (" +
                          std::to_string(endpoint.max_tokens) +
                          "); expected tpm above max_tokens, or a lower max_tokens");
  }
  switch (endpoint.provider) {
    case Provider::kOpenAI:
      if (endpoint.base_url.empty()) {
        endpoint.base_url = "https://api.openai.com/v1";
        // Only OpenAI itself needs OpenAI's key; a local server given by base_url usually
        // needs none.
        if (!find("api_key_env")) endpoint.api_key_env = "OPENAI_API_KEY";
      }
      break;
    case Provider::kAnthropic:
      if (endpoint.base_url.empty()) endpoint.base_url = "https://api.anthropic.com";
      if (!find("api_key_env")) endpoint.api_key_env = "ANTHROPIC_API_KEY";
      break;
    case Provider::kOffline:
      for (std::string_view key : {"base_url", "api_key_env"}) {
        if (const YamlEntry* e = find(key)) {
          r_.Error(e->key_node, std::string(key) +
                                    ": the offline provider runs in-process and has no endpoint; "
                                    "remove it or choose provider 'openai' or 'anthropic'");
        }
      }
      break;
  }
  if (endpoint.provider != Provider::kOffline && !find("model")) {
    r_.Error(entry.key_node, where +
                                 ": missing 'model': expected the provider's model id "
                                 "(e.g. gpt-4o-mini, claude-sonnet-4)");
  }
  return spec;
}

void TeamParser::ParseLimits(const YamlEntry& entry, EndpointConfig& endpoint) {
  for (const YamlEntry& e : r_.Entries(entry, kLimitKeys, "limits")) {
    if (e.key == "window_s") {
      if (auto ms = Millis(e)) endpoint.limit_window_ms = *ms;
      continue;
    }
    std::optional<int64_t> n =
        r_.Integer(e, 1, e.key == "concurrency" ? kMaxConcurrency : kInt64Max);
    if (!n) continue;
    if (e.key == "concurrency") endpoint.concurrency = static_cast<int>(*n);
    if (e.key == "rpm") endpoint.rpm = *n;
    if (e.key == "tpm") endpoint.tpm = *n;
  }
}

void TeamParser::ParseCircuit(const YamlEntry& entry, EndpointConfig& endpoint) {
  for (const YamlEntry& e : r_.Entries(entry, kCircuitKeys, "circuit")) {
    if (e.key == "failures") {
      // 0 turns the breaker off.
      if (auto n = r_.Integer(e, 0, kMaxCircuitFailures)) {
        endpoint.circuit_failures = static_cast<int>(*n);
      }
    } else if (auto ms = Millis(e)) {
      endpoint.circuit_cool_down_ms = *ms;
    }
  }
}

void TeamParser::ParseHeaders(const YamlEntry& entry, EndpointConfig& endpoint) {
  for (const YamlEntry& h : r_.NamedEntries(entry, "headers")) {
    std::string lowered = Lowered(h.key);
    if (lowered == "authorization" || lowered == "x-api-key" || lowered == "api-key" ||
        lowered == "proxy-authorization") {
      r_.Error(h.key_node, "headers: '" + h.key +
                               "' carries a secret and a team file is no place for one; name "
                               "the environment variable that holds the key with api_key_env");
      continue;
    }
    if (auto value = r_.String(h)) endpoint.headers[h.key] = *value;
  }
}

std::optional<InputSpec> TeamParser::ParseInput(const YamlEntry& entry) {
  InputSpec input;
  input.name = entry.key;
  input.loc = r_.Loc(entry.key_node);
  const std::string where = "input '" + entry.key + "'";
  // `name: text` and `name: file` are shorthands for the common case.
  if (entry.value.IsScalar()) {
    std::optional<std::string> kind = r_.OneOf(entry, kInputKinds);
    if (!kind) return std::nullopt;
    input.file = *kind == "file";
    return input;
  }
  if (!entry.value.IsMap()) {
    r_.Error(entry, where +
                        ": expected 'text', 'file' or a mapping with 'text: true' or "
                        "'file: true', found " +
                        DescribeNode(entry.value));
    return std::nullopt;
  }
  std::optional<bool> text;
  std::optional<bool> file;
  std::optional<bool> required;
  const YamlEntry* required_entry = nullptr;
  std::vector<YamlEntry> entries = r_.Entries(entry, kInputKeys, where);
  for (const YamlEntry& e : entries) {
    if (e.key == "text") {
      text = r_.Bool(e);
    } else if (e.key == "file") {
      file = r_.Bool(e);
    } else if (e.key == "required") {
      required = r_.Bool(e);
      required_entry = &e;
    } else if (e.key == "default") {
      input.default_value = r_.String(e);
    } else if (e.key == "label") {
      if (auto label = r_.OneOf(e, kLabels)) input.label = *label;
    } else if (e.key == "description") {
      if (auto d = r_.String(e)) input.description = *d;
    }
  }
  if (text.value_or(false) && file.value_or(false)) {
    r_.Error(entry.key_node, where + ": expected either 'text: true' or 'file: true', found both");
    return std::nullopt;
  }
  if (!text.value_or(false) && !file.value_or(false)) {
    r_.Error(entry.key_node, where + ": expected 'text: true' or 'file: true'");
    return std::nullopt;
  }
  input.file = file.value_or(false);
  if (required.value_or(false) && input.default_value) {
    r_.Error(*required_entry,
             "required: an input with a default is never missing; drop "
             "'required' or the default");
  }
  input.required = required.value_or(!input.default_value.has_value());
  return input;
}

std::optional<AgentSpec> TeamParser::ParseAgent(const YamlEntry& entry) {
  AgentSpec agent;
  agent.name = entry.key;
  agent.loc = r_.Loc(entry.key_node);
  agent.model = "offline";
  const std::string where = "agent '" + entry.key + "'";
  if (!entry.value.IsMap()) {
    r_.Error(entry, where + ": expected a mapping with 'role' (and 'model'), found " +
                        DescribeNode(entry.value));
    return std::nullopt;
  }
  for (const YamlEntry& e : r_.Entries(entry, kAgentKeys, where, kAgentUnsupported)) {
    if (e.key == "role") {
      if (auto role = r_.String(e)) agent.role = std::move(*role);
    } else if (e.key == "model") {
      if (auto model = r_.NonEmptyString(e)) agent.model = std::move(*model);
    } else if (e.key == "clearance") {
      if (auto clearance = r_.OneOf(e, kLabels)) agent.clearance = std::move(*clearance);
    } else if (e.key == "description") {
      r_.String(e);
    } else if (e.key == "context") {
      agent.context = ParseContextBudget(r_, e, where);
    }
  }
  return agent;
}

std::string SourceHash(std::string_view text) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(Fnv1a64(text)));
  return hex;
}

}  // namespace

Result<Team> ParseTeam(const std::string& yaml_text, const std::string& file_name) {
  std::error_code ec;
  fs::path base_dir = fs::absolute(fs::path(file_name).parent_path(), ec);
  Result<Team> team = TeamParser(file_name, base_dir).Parse(yaml_text);
  if (team) team->source_hash = SourceHash(yaml_text);
  return team;
}

Result<Team> LoadTeamFile(const std::string& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec).lexically_normal();
  if (!fs::exists(absolute, ec)) {
    return Err(Status::NotFound("team file '" + path + "' not found (looked for '" +
                                absolute.string() + "')"));
  }
  if (fs::is_directory(absolute, ec)) {
    return Err(Status::InvalidArgument("team file '" + path +
                                       "': expected a YAML file, found a directory"));
  }
  std::ifstream in(absolute, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in) {
    return Err(Status::InvalidArgument("team file '" + path + "' exists but cannot be read"));
  }
  const std::string text = std::move(buffer).str();
  Result<Team> team = TeamParser(path, absolute.parent_path()).Parse(text);
  if (team) {
    team->path = absolute.string();
    team->source_hash = SourceHash(text);
  }
  return team;
}

}  // namespace chorus
