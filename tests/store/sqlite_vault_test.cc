// The pseudonym vault in the SQLite store: per run, in save order, kept across reopening, and
// separate from the events (which must never hold the values).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "chorus/store.h"
#include "store/temp_dir.h"

namespace chorus {
namespace {

std::unique_ptr<Store> Open(const std::string& path) {
  auto store = OpenSqliteStore(path);
  EXPECT_TRUE(store) << store.error().ToString();
  return store ? std::move(*store) : nullptr;
}

void CreateRun(Store& store, const std::string& id) {
  RunRecord run;
  run.run_id = id;
  run.team = "engagement";
  ASSERT_TRUE(store.CreateRun(run).ok());
}

TEST(SqliteVault, SavesPerRunInOrderAndSurvivesReopening) {
  testing::TempDir dir;
  const std::string path = dir.File("chorus.db");
  {
    auto store = Open(path);
    CreateRun(*store, "run-a");
    CreateRun(*store, "run-b");
    std::vector<VaultRecord> first = {{"<CLIENT_1>", "Acme Corp", "CLIENT", "confidential"},
                                      {"<PERSON_1>", "Jane Roe", "PERSON", "confidential"}};
    ASSERT_TRUE(store->SaveVault("run-a", first).ok());
    // A pseudonym saved again (a resumed run re-seeding its vault) is left as it is.
    std::vector<VaultRecord> second = {{"<PERSON_1>", "Jane Roe", "PERSON", "confidential"},
                                       {"<EMAIL_1>", "jane@acme.example", "EMAIL", "confidential"}};
    ASSERT_TRUE(store->SaveVault("run-a", second).ok());
    ASSERT_TRUE(store
                    ->SaveVault("run-b", std::vector<VaultRecord>{{"<PERSON_1>", "Omar", "PERSON",
                                                                   "confidential"}})
                    .ok());
  }
  auto store = Open(path);
  Result<std::vector<VaultRecord>> a = store->LoadVault("run-a");
  ASSERT_TRUE(a) << a.error().ToString();
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ((*a)[0].pseudonym, "<CLIENT_1>");
  EXPECT_EQ((*a)[1].value, "Jane Roe");
  EXPECT_EQ((*a)[2].type, "EMAIL");
  EXPECT_EQ((*a)[2].label, "confidential");
  ASSERT_EQ(store->LoadVault("run-b")->size(), 1u);
  EXPECT_TRUE(store->LoadVault("run-c")->empty());
  EXPECT_TRUE(store->LoadEvents("run-a")->empty());
}

TEST(SqliteVault, RefusesRowsForARunThatDoesNotExist) {
  auto store = Open(":memory:");
  Status s = store->SaveVault(
      "nobody",
      std::vector<VaultRecord>{{"<EMAIL_1>", "jane@secret.example", "EMAIL", "confidential"}});
  EXPECT_FALSE(s.ok());
  // The error reaches stderr: it names the run, never the value.
  EXPECT_EQ(s.message().find("jane@secret.example"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace chorus
