// Vault::Reload: a run that restarts gets back the pseudonyms it issued, and new values
// continue the numbering instead of reusing a number.
#include <gtest/gtest.h>

#include "chorus/privacy.h"

namespace chorus {
namespace {

TEST(VaultReload, KeepsPseudonymsAndContinuesTheNumbering) {
  Vault before;
  const std::string text = "Anna and ANNA met Bob";
  const std::string anon = before.Anonymize(
      text,
      {{0, 4, EntityType::kPerson}, {9, 13, EntityType::kPerson}, {18, 21, EntityType::kPerson}});
  ASSERT_EQ(anon, "<PERSON_1> and <PERSON_1.2> met <PERSON_2>");

  Vault after;
  for (const Vault::Entry& e : before.Entries()) ASSERT_TRUE(after.Reload(e).ok());
  EXPECT_EQ(after.Restore(anon), text);
  EXPECT_EQ(after.Pseudonymize("Bob", EntityType::kPerson), "<PERSON_2>");
  EXPECT_EQ(after.Pseudonymize("Carol", EntityType::kPerson), "<PERSON_3>");
  EXPECT_EQ(after.Pseudonymize("anna", EntityType::kPerson), "<PERSON_1.3>");
  // Reloading the same entry twice is harmless.
  EXPECT_TRUE(after.Reload(before.Entries()[0]).ok());
}

TEST(VaultReload, RefusesMalformedAndConflictingEntries) {
  Vault v;
  EXPECT_FALSE(v.Reload({"PERSON_1", "Anna", EntityType::kPerson}).ok());
  EXPECT_FALSE(v.Reload({"<EMAIL_1>", "Anna", EntityType::kPerson}).ok());
  EXPECT_FALSE(v.Reload({"<PERSON_x>", "Anna", EntityType::kPerson}).ok());
  EXPECT_FALSE(v.Reload({"<PERSON_1.1>", "Anna", EntityType::kPerson}).ok());
  ASSERT_TRUE(v.Reload({"<PERSON_1>", "Anna", EntityType::kPerson}).ok());
  Status conflict = v.Reload({"<PERSON_1>", "Bob", EntityType::kPerson});
  EXPECT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.message().find("Bob"), std::string::npos) << conflict.message();
}

}  // namespace
}  // namespace chorus
