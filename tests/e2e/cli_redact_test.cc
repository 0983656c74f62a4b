// End-to-end: `chorus redact` on files and standard input, text and JSON output, entity lists,
// and the mapping shown only on request.
#include <gtest/gtest.h>

#include "e2e/cli_harness.h"

namespace chorus::e2e {
namespace {

const char* kNote =
    "From: Anna Schmidt <anna.schmidt@example.com>\n"
    "Call +44 20 7946 0958 about the Globex renewal. Card 4111 1111 1111 1111.\n"
    "Release v2.4.1 ships on order #48213377.\n";

test::ExitStatus ChorusWithStdin(const std::vector<std::string>& args, const std::string& input) {
  test::ProcessOptions o;
  o.argv = {CHORUS_CLI_PATH};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.stdin_text = input;
  test::Process p(std::move(o));
  auto status = p.Run(std::chrono::milliseconds(60000));
  if (!status) ADD_FAILURE() << "cannot run chorus: " << status.error();
  return status ? *status : test::ExitStatus{};
}

TEST(CliRedact, PrintsTheDocumentWithPseudonymsAndNoValues) {
  Scratch dir;
  auto r = Chorus({"redact", dir.Write("note.txt", kNote), "--entity", "Globex GmbH"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text,
            "From: <PERSON_1> <<EMAIL_1>>\n"
            "Call <PHONE_1> about the <CLIENT_1> renewal. Card <CREDIT_CARD_1>.\n"
            "Release v2.4.1 ships on order #48213377.\n");
  EXPECT_EQ(r.stderr_text.find("Anna"), std::string::npos) << "mapping shown unasked";
}

TEST(CliRedact, JsonHasByteSpansIntoTheInputAndMappingOnlyOnRequest) {
  auto r = ChorusWithStdin({"redact", "-", "--json", "--entity", "Globex"}, kNote);
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  auto j = JsonOut(r);
  EXPECT_FALSE(j.contains("mapping"));
  const std::string note = kNote;
  std::vector<std::string> seen;
  for (const auto& s : j["spans"]) {
    const size_t start = s["start"], end = s["end"];
    seen.push_back(s["type"].get<std::string>() + ":" + note.substr(start, end - start));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"PERSON:Anna Schmidt", "EMAIL:anna.schmidt@example.com",
                                            "PHONE:+44 20 7946 0958", "CLIENT:Globex",
                                            "CREDIT_CARD:4111 1111 1111 1111"}));
  EXPECT_EQ(j["anonymized"].get<std::string>().find("4111"), std::string::npos);

  auto revealed = ChorusWithStdin({"redact", "-", "--json", "--reveal-mapping"}, kNote);
  auto m = JsonOut(revealed)["mapping"];
  ASSERT_TRUE(m.is_array());
  EXPECT_EQ(m[0]["pseudonym"], "<PERSON_1>");
  EXPECT_EQ(m[0]["value"], "Anna Schmidt");
}

TEST(CliRedact, EntitiesFileAndAnyCase) {
  Scratch dir;
  std::string list = dir.Write("clients.txt", "# our clients\nInitech Inc\n\nUmbrella Health\n");
  std::string doc = dir.Write("d.txt", "INITECH and umbrella health ltd met.\n");
  auto r = Chorus({"redact", doc, "--entities-file", list});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text, "<CLIENT_1> and <CLIENT_2> met.\n");
}

TEST(CliRedact, MissingFileIsAUsageError) {
  auto r = Chorus({"redact", "/nonexistent/note.txt"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.stderr_text.find("/nonexistent/note.txt"), std::string::npos) << r.stderr_text;
}

}  // namespace
}  // namespace chorus::e2e
