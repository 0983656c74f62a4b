#include "model/offline_client.h"

#include <atomic>
#include <exception>
#include <string_view>
#include <vector>

#include "model/offline_handoff.h"
#include "model/offline_schema.h"
#include "model/offline_text.h"

namespace chorus {
namespace {

using nlohmann::json;
using offline::NameRole;
using offline::OneLine;
using offline::SentenceIndex;
using offline::Truncate;

constexpr std::string_view kNotice = "> Drafted by chorus's offline model — no LLM was called.";
constexpr std::string_view kNoticeKey = "_generated_by";
constexpr std::string_view kNoticeValue = "chorus offline model (no LLM was called)";
// RenderBrief's heading for feedback on a rejected attempt.
constexpr std::string_view kRejectedMarker = "Your previous attempt was rejected";

constexpr size_t kSummarySentences = 5;
constexpr size_t kSummaryBytes = 1200;
constexpr size_t kSectionSentences = 3;
constexpr size_t kSectionBytes = 900;
constexpr size_t kShownSentenceBytes = 300;

// A read-only view of the DelegationBrief JSON form; tolerant of missing or mistyped fields,
// which ValidateBrief rejects before dispatch anyway.
struct BriefView {
  std::string_view id;
  std::string_view objective;
  std::vector<std::string_view> context;
  std::vector<std::string_view> constraints;
  std::string_view format = "text";
  std::vector<std::string_view> sections;
  const json* schema = nullptr;
  std::string_view acceptance;
};

std::string_view StringField(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? std::string_view(it->get_ref<const std::string&>())
                                               : std::string_view();
}

std::vector<std::string_view> StringList(const json& object, const char* key) {
  std::vector<std::string_view> out;
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return out;
  for (const json& item : *it) {
    if (item.is_string()) out.emplace_back(item.get_ref<const std::string&>());
  }
  return out;
}

BriefView ReadBrief(const json& brief) {
  BriefView view;
  view.id = StringField(brief, "id");
  view.objective = StringField(brief, "objective");
  view.context = StringList(brief, "context");
  view.constraints = StringList(brief, "constraints");
  view.acceptance = StringField(brief, "acceptance");
  if (auto output = brief.find("output"); output != brief.end() && output->is_object()) {
    if (std::string_view format = StringField(*output, "format"); !format.empty()) {
      view.format = format;
    }
    view.sections = StringList(*output, "sections");
    if (auto schema = output->find("schema"); schema != output->end() && !schema->is_null()) {
      view.schema = &*schema;
    }
  }
  return view;
}

// How a sentence cites its context item: the step it came from when the runtime labelled it
// ("Output of step 'research':" in syntheses), else its position.
std::string SourceLabel(const std::vector<std::string_view>& context, size_t source) {
  constexpr std::string_view kStepPrefix = "Output of step '";
  if (source < context.size() && context[source].starts_with(kStepPrefix)) {
    std::string_view rest = context[source].substr(kStepPrefix.size());
    if (size_t quote = rest.find('\''); quote != std::string_view::npos) {
      return "from " + std::string(rest.substr(0, quote));
    }
  }
  return "context " + std::to_string(source + 1);
}

// Appends the chosen sentences as a bullet list, citing the context item when there are
// several.
void AppendSentences(const SentenceIndex& index, const std::vector<size_t>& chosen,
                     const std::vector<std::string_view>& context, std::string* out) {
  for (size_t i : chosen) {
    const offline::Sentence& sentence = index.sentence(i);
    *out += "- ";
    *out += Truncate(sentence.text, kShownSentenceBytes);
    if (context.size() > 1) *out += " (" + SourceLabel(context, sentence.source) + ")";
    *out += '\n';
  }
}

void AppendChecklist(const std::vector<std::string_view>& items, std::string* out) {
  for (std::string_view item : items) {
    *out += "- [ ] ";
    *out += OneLine(item);
    *out += '\n';
  }
}

void AppendWorksheet(std::string_view topic, std::string_view objective, std::string* out) {
  const std::string goal = Truncate(OneLine(objective), 200);
  *out += "- [ ] What belongs under " + std::string(topic) + " for \"" + goal + "\"?\n";
  *out += "- [ ] Which facts or sources support it, and what is still unknown?\n";
  *out += "- [ ] Who decides or acts on it, and by when?\n";
}

std::string AnswerText(const BriefView& brief, const SentenceIndex& index) {
  std::string out(kNotice);
  out += "\n\nObjective: ";
  out += OneLine(brief.objective);
  out += "\n\n";
  if (!brief.constraints.empty()) {
    out += "Constraints to honour:\n";
    AppendChecklist(brief.constraints, &out);
    out += '\n';
  }
  const std::vector<size_t> summary = index.Best({}, kSummarySentences, kSummaryBytes);
  if (!summary.empty()) {
    out += "What the context says:\n";
    AppendSentences(index, summary, brief.context, &out);
    out += '\n';
  }
  out += "Still to be done by a person:\n";
  out += "- [ ] Answer the objective in full, using the points above.\n";
  if (!OneLine(brief.acceptance).empty()) {
    out += "- [ ] Check the answer against the acceptance criteria: " + OneLine(brief.acceptance) +
           "\n";
  }
  return out;
}

void AppendSectionBody(std::string_view section, const BriefView& brief, const SentenceIndex& index,
                       std::string* out) {
  switch (offline::RoleOfName(section)) {
    case NameRole::kConstraint:
      if (brief.constraints.empty()) {
        *out += "No constraints were given.\n";
      } else {
        AppendChecklist(brief.constraints, out);
      }
      return;
    case NameRole::kSummary: {
      std::vector<size_t> summary = index.Best({}, kSummarySentences, kSummaryBytes);
      if (summary.empty()) break;
      AppendSentences(index, summary, brief.context, out);
      return;
    }
    case NameRole::kTitle:
    case NameRole::kIdentifier:
    case NameRole::kTopic: {
      std::vector<size_t> about =
          index.Best(offline::ContentTerms(section), kSectionSentences, kSectionBytes);
      if (!about.empty()) {
        AppendSentences(index, about, brief.context, out);
        return;
      }
      // "Goals", "Question": restating the objective is the honest content.
      if (offline::RoleOfName(section) == NameRole::kTitle) {
        *out += OneLine(brief.objective);
        *out += '\n';
        return;
      }
      break;
    }
  }
  AppendWorksheet(section, brief.objective, out);
}

bool Contains(const std::vector<std::string_view>& sections, NameRole role) {
  for (std::string_view s : sections) {
    if (offline::RoleOfName(s) == role) return true;
  }
  return false;
}

std::string AnswerMarkdown(const BriefView& brief, const SentenceIndex& index) {
  std::string out(kNotice);
  out += "\n\nObjective: ";
  out += OneLine(brief.objective);
  out += "\n\n";
  std::vector<std::string_view> sections = brief.sections;
  // Without required sections, lay out the plan under headings of its own; extra headings go
  // after the required ones so they cannot cut a required section short.
  std::vector<std::string_view> extra;
  if (sections.empty()) extra.push_back("Objective");
  if (!brief.constraints.empty() && !Contains(sections, NameRole::kConstraint)) {
    extra.push_back("Constraints");
  }
  if (!brief.context.empty() && !Contains(sections, NameRole::kSummary)) {
    extra.push_back("Context summary");
  }
  if (sections.empty()) extra.push_back("Next steps");
  for (const auto* list : {&sections, &extra}) {
    for (std::string_view section : *list) {
      out += "## ";
      out += OneLine(section);
      out += "\n\n";
      AppendSectionBody(section, brief, index, &out);
      out += '\n';
    }
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  out += '\n';
  return out;
}

std::string AnswerJson(const BriefView& brief, const SentenceIndex& index) {
  offline::Material material;
  material.id = brief.id;
  material.objective = brief.objective;
  material.constraints = brief.constraints;
  material.context = &index;
  json value;
  if (brief.schema != nullptr) {
    value = offline::BuildInstance(*brief.schema, material, std::string(kNoticeKey),
                                   std::string(kNoticeValue));
  } else {
    json summary = json::array();
    for (size_t i : index.Best({}, kSummarySentences, kSummaryBytes)) {
      summary.push_back(Truncate(index.sentence(i).text, kShownSentenceBytes));
    }
    json constraints = json::array();
    for (std::string_view c : brief.constraints) constraints.push_back(OneLine(c));
    value = {{"objective", OneLine(brief.objective)},
             {"constraints", std::move(constraints)},
             {"summary", std::move(summary)},
             {std::string(kNoticeKey), kNoticeValue}};
  }
  return value.dump(2, ' ', false, json::error_handler_t::replace);
}

// No brief: an extractive summary of the last user message, without any feedback appended
// to it (the offline model cannot act on feedback beyond answering again).
std::string AnswerMessages(const std::vector<ChatMessage>& messages, bool json_output) {
  std::string_view request;
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->role == "user") {
      request = it->content;
      break;
    }
  }
  if (request.empty() && !messages.empty()) request = messages.back().content;
  if (size_t marker = request.find(kRejectedMarker); marker != std::string_view::npos) {
    size_t line_start = request.rfind('\n', marker);
    request = request.substr(0, line_start == std::string_view::npos ? 0 : line_start);
  }
  const SentenceIndex index({request}, {});
  const std::vector<size_t> best = index.Best({}, kSummarySentences, kSummaryBytes);
  if (json_output) {
    json summary = json::array();
    for (size_t i : best) summary.push_back(Truncate(index.sentence(i).text, kShownSentenceBytes));
    json value = {{"summary", std::move(summary)}, {std::string(kNoticeKey), kNoticeValue}};
    return value.dump(2, ' ', false, json::error_handler_t::replace);
  }
  std::string out(kNotice);
  if (best.empty()) {
    out += "\n\nThe request carried no text to work from.\n";
    return out;
  }
  out += "\n\nSummary of the request:\n";
  AppendSentences(index, best, {}, &out);
  return out;
}

std::string Answer(const ChatRequest& request) {
  if (!request.brief.is_object()) return AnswerMessages(request.messages, request.json_output);
  if (offline::IsHandoffRequest(request.brief)) return offline::AnswerHandoff(request.brief);
  const BriefView brief = ReadBrief(request.brief);
  const SentenceIndex index(brief.context, brief.objective);
  if (brief.format == "markdown") return AnswerMarkdown(brief, index);
  if (brief.format == "json") return AnswerJson(brief, index);
  return AnswerText(brief, index);
}

int64_t TokensForBytes(size_t bytes) { return static_cast<int64_t>((bytes + 3) / 4); }

class OfflineClient final : public ModelClient {
 public:
  explicit OfflineClient(EndpointConfig config) : config_(std::move(config)) {}

  void Submit(ChatRequest request, Callback done) override {
    pending_.fetch_add(1, std::memory_order_relaxed);
    ChatResult result;
    try {
      ChatResponse response;
      response.text = Answer(request);
      response.finish_reason = "stop";
      response.model = "offline";
      size_t input_bytes = 0;
      for (const ChatMessage& message : request.messages) input_bytes += message.content.size();
      response.usage.input_tokens = TokensForBytes(input_bytes);
      response.usage.output_tokens = TokensForBytes(response.text.size());
      response.usage.cost_usd = 0.0;
      result = std::move(response);
    } catch (const std::exception& e) {
      // Only a bug or exhausted memory gets here; the caller still gets exactly one answer.
      result = tl::unexpected(
          ModelError{Status::Internal("offline model (endpoint " + config_.name + "): " + e.what()),
                     0, std::nullopt});
    }
    pending_.fetch_sub(1, std::memory_order_relaxed);
    done(std::move(result));
  }

  const EndpointConfig& config() const override { return config_; }
  int64_t pending() const override { return pending_.load(std::memory_order_relaxed); }
  bool answers_in_process() const override { return true; }

 private:
  const EndpointConfig config_;
  std::atomic<int64_t> pending_{0};
};

}  // namespace

Result<std::unique_ptr<ModelClient>> MakeOfflineClient(const EndpointConfig& config) {
  if (config.provider != Provider::kOffline) {
    return Err(Status::InvalidArgument("endpoint '" + config.name +
                                       "': expected provider offline for the offline model, "
                                       "found another provider"));
  }
  return std::unique_ptr<ModelClient>(std::make_unique<OfflineClient>(config));
}

}  // namespace chorus
