#include <gtest/gtest.h>

#include "chorus/model_client.h"

namespace chorus {
namespace {

EndpointConfig Model(Provider provider, std::string id) {
  EndpointConfig c;
  c.provider = provider;
  c.model = std::move(id);
  return c;
}

TEST(PriceTable, PricesWellKnownModelsPerMillionTokens) {
  EXPECT_DOUBLE_EQ(CostUsd(Model(Provider::kOpenAI, "gpt-4o-mini"), 1'000'000, 1'000'000), 0.75);
  EXPECT_DOUBLE_EQ(CostUsd(Model(Provider::kOpenAI, "gpt-4o"), 1'000'000, 0), 2.50);
  EXPECT_DOUBLE_EQ(CostUsd(Model(Provider::kOpenAI, "gpt-4.1-nano"), 0, 1'000'000), 0.40);
  EXPECT_DOUBLE_EQ(CostUsd(Model(Provider::kAnthropic, "claude-sonnet-4"), 1'000'000, 1'000'000),
                   18.0);
  EXPECT_DOUBLE_EQ(CostUsd(Model(Provider::kAnthropic, "claude-3-5-haiku"), 0, 1'000'000), 4.0);
}

TEST(PriceTable, MatchesDatedSnapshotsButNotOtherModels) {
  EXPECT_DOUBLE_EQ(CostUsd(Model(Provider::kOpenAI, "gpt-4o-mini-2024-07-18"), 1'000'000, 0), 0.15);
  EXPECT_DOUBLE_EQ(CostUsd(Model(Provider::kAnthropic, "claude-sonnet-4-20250514"), 1'000'000, 0),
                   3.0);
  EXPECT_DOUBLE_EQ(CostUsd(Model(Provider::kAnthropic, "claude-3-7-sonnet-latest"), 0, 1'000'000),
                   15.0);
  // An exact entry beats the snapshot rule: the first gpt-4o snapshot kept its launch price.
  EXPECT_DOUBLE_EQ(CostUsd(Model(Provider::kOpenAI, "gpt-4o-2024-05-13"), 1'000'000, 0), 5.0);
  EXPECT_FALSE(HasPrice(Model(Provider::kOpenAI, "gpt-4o-turbo-preview")));
  EXPECT_FALSE(HasPrice(Model(Provider::kOpenAI, "llama3.1")));
  EXPECT_DOUBLE_EQ(CostUsd(Model(Provider::kOpenAI, "llama3.1"), 1000, 1000), 0.0);
}

TEST(PriceTable, ExplicitPriceWins) {
  EndpointConfig c = Model(Provider::kOpenAI, "gpt-4o");
  c.price = Price{1.0, 2.0};
  EXPECT_TRUE(HasPrice(c));
  EXPECT_DOUBLE_EQ(CostUsd(c, 500'000, 250'000), 1.0);
}

TEST(PriceTable, OfflineIsFreeAndRoutedIdsKeepTheirVendorPrice) {
  EXPECT_TRUE(HasPrice(Model(Provider::kOffline, "offline")));
  EXPECT_DOUBLE_EQ(CostUsd(Model(Provider::kOffline, "offline"), 1'000'000, 1'000'000), 0.0);
  EXPECT_DOUBLE_EQ(CostUsd(Model(Provider::kOpenAI, "openai/gpt-4o-mini"), 1'000'000, 0), 0.15);
}

}  // namespace
}  // namespace chorus
