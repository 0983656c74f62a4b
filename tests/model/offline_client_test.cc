#include "model/offline_client.h"

#include <gtest/gtest.h>

#include <chrono>

#include "chorus/brief.h"

namespace chorus {
namespace {

using nlohmann::json;

constexpr std::string_view kNotice = "> Drafted by chorus's offline model — no LLM was called.";

std::unique_ptr<ModelClient> Client() {
  EndpointConfig config;
  config.name = "offline";
  config.provider = Provider::kOffline;
  auto client = MakeOfflineClient(config);
  EXPECT_TRUE(client) << client.error().ToString();
  return std::move(*client);
}

ChatResponse Ask(ModelClient& client, const DelegationBrief& brief,
                 const std::vector<std::string>& feedback = {}) {
  ChatRequest request;
  request.messages = RenderBrief("You are a careful analyst.", brief, feedback);
  request.brief = brief.ToJson();
  std::optional<ChatResult> result;
  client.Submit(std::move(request), [&](ChatResult r) { result = std::move(r); });
  // The offline model answers on the calling thread, before Submit returns.
  EXPECT_TRUE(result.has_value());
  EXPECT_TRUE(result.has_value() && result->has_value())
      << (result && !result->has_value() ? result->error().status.ToString() : "");
  return result && result->has_value() ? **result : ChatResponse{};
}

DelegationBrief LaunchBrief() {
  DelegationBrief brief;
  brief.id = "situation";
  brief.objective = "Summarise the client's launch position and its risks";
  brief.context = {
      "Acme plans to launch the new router in May. The launch budget is 40k EUR. "
      "The main risk is a supply delay from the chip vendor, which could push the launch by "
      "six weeks. Marketing is ready.",
      "Competitor X cut its router prices by 10% last quarter. A second risk is that the "
      "price cut erodes Acme's margin on the launch."};
  brief.constraints = {"Stay under 300 words", "Do not name the vendor"};
  brief.acceptance = "The board can decide whether to launch in May.";
  return brief;
}

bool Has(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(OfflineClient, TextAnswerRestatesObjectiveConstraintsAndContext) {
  auto client = Client();
  const DelegationBrief brief = LaunchBrief();
  const ChatResponse response = Ask(*client, brief);
  auto accepted = CheckOutput(brief.output, response.text);
  ASSERT_TRUE(accepted) << accepted.error().message();
  EXPECT_EQ(response.text.rfind(kNotice, 0), 0u) << response.text;
  EXPECT_TRUE(Has(response.text, brief.objective));
  EXPECT_TRUE(Has(response.text, "- [ ] Stay under 300 words"));
  EXPECT_TRUE(Has(response.text, "- [ ] Do not name the vendor"));
  EXPECT_TRUE(Has(response.text, "The main risk is a supply delay")) << response.text;
  EXPECT_TRUE(Has(response.text, "(context 2)")) << response.text;
  EXPECT_TRUE(Has(response.text, brief.acceptance));
}

TEST(OfflineClient, MarkdownAnswerHasEveryRequiredSection) {
  auto client = Client();
  DelegationBrief brief = LaunchBrief();
  brief.output.format = OutputFormat::kMarkdown;
  brief.output.sections = {"Position", "Risks", "Stakeholder map", "Constraints"};
  const ChatResponse response = Ask(*client, brief);
  auto accepted = CheckOutput(brief.output, response.text);
  ASSERT_TRUE(accepted) << accepted.error().message() << "\n" << response.text;
  EXPECT_EQ(response.text.rfind(kNotice, 0), 0u);
  // Sentences about the section's subject are extracted...
  const std::string risks = accepted->json["Risks"];
  EXPECT_TRUE(Has(risks, "The main risk is a supply delay")) << risks;
  EXPECT_TRUE(Has(risks, "A second risk")) << risks;
  EXPECT_FALSE(Has(risks, "Marketing is ready")) << risks;
  // ...a section the context says nothing about becomes a worksheet for a person...
  const std::string stakeholders = accepted->json["Stakeholder map"];
  EXPECT_TRUE(Has(stakeholders, "- [ ] What belongs under Stakeholder map")) << stakeholders;
  // ...and constraints become a checklist.
  EXPECT_EQ(accepted->json["Constraints"],
            "- [ ] Stay under 300 words\n- [ ] Do not name the vendor");
}

TEST(OfflineClient, MarkdownWithoutSectionsIsAPlan) {
  auto client = Client();
  DelegationBrief brief = LaunchBrief();
  brief.output.format = OutputFormat::kMarkdown;
  const ChatResponse response = Ask(*client, brief);
  ExpectedOutput plan = brief.output;
  plan.sections = {"Objective", "Constraints", "Context summary", "Next steps"};
  auto accepted = CheckOutput(plan, response.text);
  ASSERT_TRUE(accepted) << accepted.error().message() << "\n" << response.text;
}

const char* kNestedSchema = R"({
  "$defs": {
    "risk": {
      "type": "object",
      "required": ["title", "severity", "likelihood", "mitigations"],
      "additionalProperties": false,
      "properties": {
        "title": {"type": "string", "minLength": 3, "maxLength": 80},
        "severity": {"enum": ["high", "medium", "low"]},
        "likelihood": {"type": "number", "minimum": 0, "exclusiveMinimum": 0,
                       "exclusiveMaximum": 1},
        "mitigations": {"type": "array", "minItems": 2, "items": {"type": "string"}},
        "owner": {"type": ["string", "null"], "format": "email"}
      }
    }
  },
  "type": "object",
  "required": ["summary", "score", "risks", "launch", "id"],
  "properties": {
    "id": {"type": "string", "pattern": "^[a-z-]+$"},
    "summary": {"type": "string"},
    "score": {"type": "integer", "minimum": 1, "maximum": 10},
    "risks": {"type": "array", "minItems": 1, "maxItems": 4, "items": {"$ref": "#/$defs/risk"}},
    "launch": {
      "type": "object",
      "required": ["go", "date", "budget"],
      "properties": {
        "go": {"type": "boolean"},
        "date": {"type": "string", "format": "date"},
        "budget": {"type": "number", "minimum": 1000},
        "notes": {"anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}]},
        "tags": {"type": "array", "items": {"allOf": [{"type": "string"}, {"minLength": 2}]}}
      }
    },
    "constraints": {"type": "array", "items": {"type": "string"}}
  }
})";

TEST(OfflineClient, JsonAnswerIsGeneratedFromANestedSchemaAndValidates) {
  auto client = Client();
  DelegationBrief brief = LaunchBrief();
  brief.output.format = OutputFormat::kJson;
  brief.output.schema = json::parse(kNestedSchema);
  ASSERT_TRUE(ValidateBrief(brief).ok());
  const ChatResponse response = Ask(*client, brief);
  auto accepted = CheckOutput(brief.output, response.text);
  ASSERT_TRUE(accepted) << accepted.error().message() << "\n" << response.text;
  const json& value = accepted->json;
  EXPECT_EQ(value["id"], "situation");
  EXPECT_EQ(value["score"], 1);
  EXPECT_EQ(value["risks"][0]["severity"], "high");
  EXPECT_GE(value["risks"][0]["mitigations"].size(), 2u);
  EXPECT_EQ(value["constraints"], json({"Stay under 300 words", "Do not name the vendor"}));
  EXPECT_TRUE(Has(value["risks"][0]["title"].get<std::string>(), "risk"))
      << value["risks"][0]["title"];
  EXPECT_TRUE(value["launch"]["budget"].get<double>() >= 1000);
  // The top level admits extra properties, so the answer says where it came from.
  EXPECT_EQ(value["_generated_by"], "chorus offline model (no LLM was called)");
  EXPECT_FALSE(value["risks"][0].contains("_generated_by"));
}

TEST(OfflineClient, JsonForAHandoffShapedSchemaUsesTheBriefsText) {
  auto client = Client();
  DelegationBrief brief = LaunchBrief();
  brief.output.format = OutputFormat::kJson;
  brief.output.schema = json::parse(R"({"type": "object", "additionalProperties": false,
      "required": ["key_decisions", "current_state", "next_steps", "open_questions"],
      "properties": {
        "key_decisions": {"type": "array", "items": {"type": "string"}},
        "current_state": {"type": "string", "minLength": 1},
        "next_steps": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "open_questions": {"type": "array", "items": {"type": "string"}}}})");
  const ChatResponse response = Ask(*client, brief);
  auto accepted = CheckOutput(brief.output, response.text);
  ASSERT_TRUE(accepted) << accepted.error().message() << "\n" << response.text;
  EXPECT_FALSE(accepted->json.contains("_generated_by"));
  EXPECT_FALSE(accepted->json["next_steps"].empty());
  for (const json& step : accepted->json["next_steps"])
    EXPECT_FALSE(step.get<std::string>().empty());
}

TEST(OfflineClient, JsonWithClosedTopLevelCarriesNoNotice) {
  auto client = Client();
  DelegationBrief brief = LaunchBrief();
  brief.output.format = OutputFormat::kJson;
  brief.output.schema = json::parse(R"({"type": "object", "additionalProperties": false,
      "required": ["answer"], "properties": {"answer": {"type": "string"}}})");
  const ChatResponse response = Ask(*client, brief);
  auto accepted = CheckOutput(brief.output, response.text);
  ASSERT_TRUE(accepted) << accepted.error().message() << "\n" << response.text;
  EXPECT_EQ(accepted->json.size(), 1u);
}

TEST(OfflineClient, JsonWithoutSchemaIsAnObjectFromTheBrief) {
  auto client = Client();
  DelegationBrief brief = LaunchBrief();
  brief.output.format = OutputFormat::kJson;
  const ChatResponse response = Ask(*client, brief);
  auto accepted = CheckOutput(brief.output, response.text);
  ASSERT_TRUE(accepted) << accepted.error().message();
  EXPECT_EQ(accepted->json["objective"], brief.objective);
  EXPECT_EQ(accepted->json["constraints"].size(), 2u);
  EXPECT_FALSE(accepted->json["summary"].empty());
}

TEST(OfflineClient, IsDeterministic) {
  auto client = Client();
  DelegationBrief brief = LaunchBrief();
  brief.output.format = OutputFormat::kJson;
  brief.output.schema = json::parse(kNestedSchema);
  const std::string first = Ask(*client, brief).text;
  EXPECT_EQ(Ask(*client, brief).text, first);
  EXPECT_EQ(Ask(*Client(), brief).text, first);
}

TEST(OfflineClient, StillAnswersAfterFeedback) {
  auto client = Client();
  DelegationBrief brief = LaunchBrief();
  brief.output.format = OutputFormat::kMarkdown;
  brief.output.sections = {"Risks"};
  const ChatResponse response =
      Ask(*client, brief, {"missing section 'Risks'; found headings 'Intro'"});
  EXPECT_TRUE(CheckOutput(brief.output, response.text));
}

TEST(OfflineClient, ReportsUsageAndIdentity) {
  auto client = Client();
  const DelegationBrief brief = LaunchBrief();
  ChatRequest request;
  request.messages = RenderBrief("role", brief, {});
  request.brief = brief.ToJson();
  size_t bytes = 0;
  for (const ChatMessage& m : request.messages) bytes += m.content.size();
  std::optional<ChatResult> result;
  client->Submit(request, [&](ChatResult r) {
    EXPECT_EQ(client->pending(), 0);
    result = std::move(r);
  });
  ASSERT_TRUE(result && result->has_value());
  const ChatResponse& response = **result;
  EXPECT_EQ(response.model, "offline");
  EXPECT_EQ(response.finish_reason, "stop");
  EXPECT_EQ(response.usage.input_tokens, static_cast<int64_t>((bytes + 3) / 4));
  EXPECT_EQ(response.usage.output_tokens, static_cast<int64_t>((response.text.size() + 3) / 4));
  EXPECT_EQ(response.usage.cost_usd, 0.0);
  EXPECT_EQ(client->config().name, "offline");
}

TEST(OfflineClient, WithoutABriefSummarizesTheLastUserMessage) {
  auto client = Client();
  ChatRequest request;
  request.messages = {
      {"system", "You summarise."},
      {"user", "An old question about cats."},
      {"assistant", "An old answer."},
      {"user",
       "The quarterly report shows revenue grew 12 percent. Revenue growth came from the "
       "enterprise segment. The office plants were watered.\n\n"
       "## Your previous attempt was rejected\n\n- too short revenue revenue revenue\n"}};
  std::optional<ChatResult> result;
  client->Submit(request, [&](ChatResult r) { result = std::move(r); });
  ASSERT_TRUE(result && result->has_value());
  const std::string& text = (*result)->text;
  EXPECT_EQ(text.rfind(kNotice, 0), 0u);
  EXPECT_TRUE(Has(text, "revenue grew 12 percent")) << text;
  EXPECT_FALSE(Has(text, "cats"));
  EXPECT_FALSE(Has(text, "too short")) << text;
}

TEST(OfflineClient, RejectsOtherProviders) {
  EndpointConfig config;
  config.name = "fast";
  config.provider = Provider::kOpenAI;
  auto client = MakeOfflineClient(config);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code(), StatusCode::kInvalidArgument);
}

TEST(OfflineClient, LargeContextStaysFast) {
  auto client = Client();
  DelegationBrief brief = LaunchBrief();
  std::string big;
  big.reserve(1 << 20);
  for (int i = 0; big.size() < (1u << 20); ++i) {
    big += "Paragraph " + std::to_string(i) + " discusses the launch budget and supply risk " +
           "for the router in region " + std::to_string(i % 97) + ". ";
  }
  brief.context = {big, "\xff\xfe invalid bytes must not crash the answer."};
  brief.output.format = OutputFormat::kMarkdown;
  brief.output.sections = {"Risks", "Budget"};
  ChatRequest request;
  request.brief = brief.ToJson();
  request.messages = {{"user", "see brief"}};
  const auto start = std::chrono::steady_clock::now();
  std::optional<ChatResult> result;
  client->Submit(std::move(request), [&](ChatResult r) { result = std::move(r); });
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(result && result->has_value());
  EXPECT_TRUE(CheckOutput(brief.output, (*result)->text));
  EXPECT_LT((*result)->text.size(), 8000u);
  // Linear work on 1 MB; generous enough for unoptimized and sanitizer builds.
  // Release builds take about 25 ms; a quadratic step would take minutes.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 3000);
}

}  // namespace
}  // namespace chorus
