// The pseudonym vault: stable pseudonyms, exact restore, and the property that anonymizing
// then restoring random texts is the identity and leaves no detected value behind.
#include <gtest/gtest.h>

#include <random>

#include "chorus/privacy.h"

namespace chorus {
namespace {

TEST(Vault, SameValueSamePseudonymAcrossCalls) {
  Vault v;
  EXPECT_EQ(v.Pseudonymize("Anna Schmidt", EntityType::kPerson), "<PERSON_1>");
  EXPECT_EQ(v.Pseudonymize("a@b.example", EntityType::kEmail), "<EMAIL_1>");
  EXPECT_EQ(v.Pseudonymize("Bob Stone", EntityType::kPerson), "<PERSON_2>");
  EXPECT_EQ(v.Pseudonymize("Anna Schmidt", EntityType::kPerson), "<PERSON_1>");
}

TEST(Vault, OtherSpellingKeepsEntityNumberAndRestoresExactly) {
  Vault v;
  const std::string text = "Acme and ACME";
  const std::string anon =
      v.Anonymize(text, {{0, 4, EntityType::kClient}, {9, 13, EntityType::kClient}});
  EXPECT_EQ(anon, "<CLIENT_1> and <CLIENT_1.2>");
  EXPECT_EQ(v.Restore(anon), text);
  EXPECT_EQ(v.Restore("Ask <CLIENT_1> about <PERSON_9>."), "Ask Acme about <PERSON_9>.");
}

TEST(Vault, RestoreOfAnonymizeIsIdentityOnRandomTexts) {
  PiiDetectorOptions options;
  options.entities = {"Initech Inc"};
  auto detector = PiiDetector::Make(options);
  ASSERT_TRUE(detector) << detector.error().ToString();
  // {text, the value a reader would call personal data (empty: none)}
  const std::vector<std::pair<std::string, std::string>> pieces = {
      {"Anna Schmidt", "Anna Schmidt"},
      {"wrote", ""},
      {"to", ""},
      {"kamal@example.org", "kamal@example.org"},
      {"+44 20 7946 0958", "+44 20 7946 0958"},
      {"4111 1111 1111 1111", "4111 1111 1111 1111"},
      {"DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"},
      {"123-45-6789", "123-45-6789"},
      {"10.1.2.3", "10.1.2.3"},
      {"https://x.example.com/p", "https://x.example.com/p"},
      {"221 Baker Street", "221 Baker Street"},
      {"born on 3 May 1990", "3 May 1990"},
      {"Initech", "Initech"},
      {"INITECH Inc", "INITECH"},
      {"v2.4.1", ""},
      {"$12.00", ""},
      {"\nDear Zebulon,", "Zebulon"},
      {".", ""},
      {"Best regards,\nOmar Haddad\n", "Omar Haddad"},
      {"é", ""},
      {"<b>", ""},
      {"<PERSON_7>", ""},
      {"Mr. Okafor", "Okafor"},
      {"the", ""},
      {"budget", ""},
      {"\n", ""}};
  std::mt19937 rng(42);
  for (int round = 0; round < 300; ++round) {
    std::string text;
    std::vector<std::string> gold;
    const int n = 1 + static_cast<int>(rng() % 30);
    for (int k = 0; k < n; ++k) {
      const auto& [piece, value] = pieces[rng() % pieces.size()];
      text += piece + (rng() % 4 ? " " : "\n");
      if (!value.empty()) gold.push_back(value);
    }
    const std::vector<PiiSpan> spans = (*detector)->Detect(text);
    Vault vault;
    const std::string anon = vault.Anonymize(text, spans);
    ASSERT_EQ(vault.Restore(anon), text) << text;
    for (const std::string& value : gold) {
      EXPECT_EQ(anon.find(value), std::string::npos) << "'" << value << "' survived in:\n" << anon;
    }
  }
}

}  // namespace
}  // namespace chorus
