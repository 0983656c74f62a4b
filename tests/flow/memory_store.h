// An in-memory SQLite store that already holds one run: for tests that record a run's events
// or pseudonyms without a whole RunTeam around them.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "chorus/store.h"

namespace chorus {

inline std::unique_ptr<Store> MemoryStoreWithRun(const std::string& run_id,
                                                 const std::string& team) {
  auto store = OpenSqliteStore(":memory:");
  EXPECT_TRUE(store) << store.error().ToString();
  if (!store) return nullptr;
  RunRecord run;
  run.run_id = run_id;
  run.team = team;
  EXPECT_TRUE((*store)->CreateRun(run).ok());
  return std::move(*store);
}

}  // namespace chorus
