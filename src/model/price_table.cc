// CostUsd / HasPrice: an endpoint's explicit price, else the built-in table of list prices in
// USD per million tokens as published by OpenAI and Anthropic (standard tier, no caching or
// batch discounts).

#include <array>
#include <optional>
#include <string_view>

#include "chorus/model_client.h"

namespace chorus {
namespace {

struct PriceEntry {
  std::string_view model;
  Price price;
};

constexpr std::array kPrices = {
    // OpenAI
    PriceEntry{"gpt-4o", {2.50, 10.00}},
    PriceEntry{"gpt-4o-2024-05-13", {5.00, 15.00}},  // the first snapshot kept its launch price
    PriceEntry{"gpt-4o-mini", {0.15, 0.60}},
    PriceEntry{"gpt-4.1", {2.00, 8.00}},
    PriceEntry{"gpt-4.1-mini", {0.40, 1.60}},
    PriceEntry{"gpt-4.1-nano", {0.10, 0.40}},
    PriceEntry{"gpt-4-turbo", {10.00, 30.00}},
    PriceEntry{"gpt-3.5-turbo", {0.50, 1.50}},
    PriceEntry{"gpt-5", {1.25, 10.00}},
    PriceEntry{"gpt-5-mini", {0.25, 2.00}},
    PriceEntry{"gpt-5-nano", {0.05, 0.40}},
    PriceEntry{"o1", {15.00, 60.00}},
    PriceEntry{"o3", {2.00, 8.00}},
    PriceEntry{"o3-mini", {1.10, 4.40}},
    PriceEntry{"o4-mini", {1.10, 4.40}},
    // Anthropic
    PriceEntry{"claude-opus-4", {15.00, 75.00}},
    PriceEntry{"claude-opus-4-0", {15.00, 75.00}},
    PriceEntry{"claude-opus-4-1", {15.00, 75.00}},
    PriceEntry{"claude-opus-4-5", {5.00, 25.00}},
    PriceEntry{"claude-sonnet-4", {3.00, 15.00}},
    PriceEntry{"claude-sonnet-4-0", {3.00, 15.00}},
    PriceEntry{"claude-sonnet-4-5", {3.00, 15.00}},
    PriceEntry{"claude-haiku-4-5", {1.00, 5.00}},
    PriceEntry{"claude-3-7-sonnet", {3.00, 15.00}},
    PriceEntry{"claude-3-5-sonnet", {3.00, 15.00}},
    PriceEntry{"claude-3-5-haiku", {0.80, 4.00}},
    PriceEntry{"claude-3-opus", {15.00, 75.00}},
    PriceEntry{"claude-3-haiku", {0.25, 1.25}},
};

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

// "-20250514" (Anthropic), "-2024-07-18" (OpenAI) or "-latest". Anything else after a known
// id is a different model ("gpt-4o-mini" is not "gpt-4o" with a suffix).
bool IsSnapshotSuffix(std::string_view suffix) {
  if (suffix == "latest") return true;
  if (suffix.size() == 8) return AllDigits(suffix);
  return suffix.size() == 10 && suffix[4] == '-' && suffix[7] == '-' &&
         AllDigits(suffix.substr(0, 4)) && AllDigits(suffix.substr(5, 2)) &&
         AllDigits(suffix.substr(8, 2));
}

std::optional<Price> LookUp(std::string_view model) {
  // Routers such as OpenRouter prefix the vendor: "openai/gpt-4o-mini".
  if (size_t slash = model.rfind('/'); slash != std::string_view::npos) {
    model.remove_prefix(slash + 1);
  }
  for (const PriceEntry& e : kPrices) {
    if (e.model == model) return e.price;
  }
  for (const PriceEntry& e : kPrices) {
    if (model.size() > e.model.size() + 1 && model.starts_with(e.model) &&
        model[e.model.size()] == '-' && IsSnapshotSuffix(model.substr(e.model.size() + 1))) {
      return e.price;
    }
  }
  return std::nullopt;
}

std::optional<Price> PriceFor(const EndpointConfig& config) {
  if (config.price) return config.price;
  if (config.provider == Provider::kOffline) return Price{};
  return LookUp(config.model);
}

}  // namespace

double CostUsd(const EndpointConfig& config, int64_t input_tokens, int64_t output_tokens) {
  std::optional<Price> price = PriceFor(config);
  if (!price) return 0.0;
  return (static_cast<double>(input_tokens) * price->input_per_mtok +
          static_cast<double>(output_tokens) * price->output_per_mtok) /
         1e6;
}

bool HasPrice(const EndpointConfig& config) { return PriceFor(config).has_value(); }

}  // namespace chorus
