// One-line descriptions of the quality events — gate.verdict, witness.vote, witness.compare,
// witness.extended, witness.verdict — for `chorus show` and the live progress. Pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace chorus::cli {

// nullopt when `kind` is not a quality event. `full` shows answers untruncated.
std::optional<std::string> DescribeQualityEvent(const std::string& kind, const nlohmann::json& p,
                                                bool full);

}  // namespace chorus::cli
