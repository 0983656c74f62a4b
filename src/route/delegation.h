// Delegate or do it locally: given the agent a routed task belongs to (its owner) and the agent
// the router picked, decide who does the piece, from the size of the work, its sensitivity
// label, the agents' clearances and which agent produced the context the piece reads.
//
// Pure function of its arguments; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chorus::route {

struct DelegationRules {
  bool holds_context = false;
  int64_t local_max_words = 0;  // 0 = off
  std::string local_label;      // "" = off
  int64_t delegate_min_words = 0;
};

struct DelegationCase {
  std::string owner;   // the task's own agent
  std::string routed;  // the agent the route picked
  int64_t words = 0;   // objective + context
  std::string label;   // the piece's label, "" when unlabelled
  std::string owner_clearance, routed_clearance;
  std::string context_holder;  // the agent that produced most of the ${steps} read; "" = none
  std::string context_holder_clearance;
};

struct DelegationChoice {
  bool delegate = false;
  std::string agent;  // who does the piece
  std::string rule;   // "same-agent", "holds_context", "local_if.max_words", ...
  std::string why;
};

DelegationChoice DecideDelegation(const DelegationRules& rules, const DelegationCase& c);

}  // namespace chorus::route
