// The fake LLM server's random faults ("probability" on a rule's faults, drawn from the script's
// seed): the real binary on loopback, driven with libcurl.
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/fake_llm_server.h"

namespace chorus::test {
namespace {

using Json = nlohmann::json;
using ::testing::HasSubstr;

size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

// POSTs one non-streaming chat request; the answer itself is not needed, the server's record is.
void PostChat(const FakeLlmServer& server, const std::string& text) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  std::string url = server.openai_base_url() + "/chat/completions";
  std::string body =
      Json{{"model", "m"}, {"messages", {{{"role", "user"}, {"content", text}}}}}.dump();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_perform(curl.get());  // cut answers end in a transport error: expected
  curl_slist_free_all(headers);
}

Json StormScript(int seed) {
  return {{"seed", seed},
          {"default",
           {{"reply", "fine"},
            {"faults",
             {{{"kind", "http_error"}, {"status", 429}, {"retry_after", "1"}, {"probability", 0.6}},
              {{"kind", "cut_stream"}, {"probability", 0.1}}}}}}};
}

// "" for a request that got its reply.
std::string FaultOf(const Json& record) {
  auto it = record.find("fault");
  return it != record.end() && it->is_string() ? it->get<std::string>() : "";
}

std::map<std::string, int> FaultCounts(const Json& records) {
  std::map<std::string, int> counts;
  for (const Json& r : records) counts[FaultOf(r)]++;
  return counts;
}

std::vector<std::string> FaultSequence(const Json& records) {
  std::vector<std::string> out;
  for (const Json& r : records) out.push_back(FaultOf(r));
  return out;
}

TEST(FakeServerRandomFaults, DrawsFaultsAtTheGivenRatesFromTheSeed) {
  auto server = FakeLlmServer::Start({.script = StormScript(5)});
  ASSERT_TRUE(server) << server.error();
  constexpr int kRequests = 300;
  for (int i = 0; i < kRequests; ++i) PostChat(*server, "q" + std::to_string(i));
  Json first = server->Requests();
  ASSERT_EQ(first.size(), static_cast<size_t>(kRequests));
  std::map<std::string, int> counts = FaultCounts(first);
  // 180 and 30 expected; a fixed seed makes the counts fixed, the bounds say they are plausible.
  EXPECT_GT(counts["http_error"], 150);
  EXPECT_LT(counts["http_error"], 210);
  EXPECT_GT(counts["cut_stream"], 15);
  EXPECT_LT(counts["cut_stream"], 45);
  EXPECT_EQ(counts["http_error"] + counts["cut_stream"] + counts[""], kRequests);

  // The same seed replays the same sequence; another seed gives another one.
  server->Reset();
  for (int i = 0; i < kRequests; ++i) PostChat(*server, "q" + std::to_string(i));
  EXPECT_EQ(FaultSequence(server->Requests()), FaultSequence(first));
  server->SetScript(StormScript(6));
  for (int i = 0; i < kRequests; ++i) PostChat(*server, "q" + std::to_string(i));
  Json all = server->Requests();
  Json third(Json::array());
  for (size_t i = 2 * kRequests; i < all.size(); ++i) third.push_back(all[i]);
  EXPECT_NE(FaultSequence(third), FaultSequence(first));
}

TEST(FakeServerRandomFaults, RejectsProbabilitiesThatCannotHold) {
  auto server = FakeLlmServer::Start();
  ASSERT_TRUE(server) << server.error();
  auto rejected = [&](const Json& faults) -> std::string {
    try {
      server->SetScript({{"default", {{"reply", "x"}, {"faults", faults}}}});
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_THAT(rejected({{{"kind", "close"}, {"probability", 0.7}},
                        {{"kind", "stall"}, {"probability", 0.5}}}),
              HasSubstr("add up to 1.2"));
  EXPECT_THAT(rejected({{{"kind", "close"}, {"probability", 0.5}}, {{"kind", "stall"}}}),
              HasSubstr("either every fault has a"));
  EXPECT_THAT(rejected({{{"kind", "close"}, {"probability", 1.5}}}),
              HasSubstr("probability: expected a number in (0, 1]"));
}

}  // namespace
}  // namespace chorus::test
