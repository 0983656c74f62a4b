#include "route/delegation.h"

#include "route/router.h"

namespace chorus::route {
namespace {

// An agent may receive a piece when its clearance is at least the piece's label.
bool Cleared(const std::string& clearance, const std::string& label) {
  return LabelRank(clearance) >= LabelRank(label);
}

DelegationChoice Local(const DelegationCase& c, std::string rule, std::string why) {
  return {false, c.owner, std::move(rule), std::move(why)};
}

DelegationChoice Delegate(const std::string& agent, std::string rule, std::string why) {
  return {true, agent, std::move(rule), std::move(why)};
}

}  // namespace

DelegationChoice DecideDelegation(const DelegationRules& rules, const DelegationCase& c) {
  const std::string words = std::to_string(c.words) + " words";
  if (rules.holds_context && !c.context_holder.empty()) {
    if (c.context_holder == c.owner) {
      return Local(c, "delegate_if.holds_context",
                   c.owner + " produced the context this piece reads, so it keeps the piece");
    }
    if (Cleared(c.context_holder_clearance, c.label)) {
      return Delegate(c.context_holder, "delegate_if.holds_context",
                      c.context_holder + " produced the context this piece reads");
    }
  }
  if (c.routed.empty() || c.routed == c.owner) {
    return Local(c, "same-agent", "the route picked the task's own agent, " + c.owner);
  }
  if (!Cleared(c.routed_clearance, c.label)) {
    std::string why = c.routed + " is not cleared for " + c.label + " content (clearance " +
                      (c.routed_clearance.empty() ? std::string("none") : c.routed_clearance) +
                      "), so " + c.owner + " keeps the piece";
    if (!Cleared(c.owner_clearance, c.label)) {
      why +=
          "; " + c.owner + " is not cleared either, so the privacy boundary decides what it sees";
    }
    return Local(c, "clearance", std::move(why));
  }
  if (rules.delegate_min_words > 0 && c.words >= rules.delegate_min_words) {
    return Delegate(
        c.routed, "delegate_if.min_words",
        "the piece is large (" + words + " >= " + std::to_string(rules.delegate_min_words) + ")");
  }
  if (rules.local_max_words > 0 && c.words <= rules.local_max_words) {
    return Local(c, "local_if.max_words",
                 "the piece is small (" + words + " <= " + std::to_string(rules.local_max_words) +
                     "); handing it over would cost more than doing it");
  }
  if (!rules.local_label.empty() && LabelRank(c.label) >= LabelRank(rules.local_label)) {
    return Local(c, "local_if.label",
                 "the piece is labelled " + c.label + ", which stays with its owner " + c.owner);
  }
  return Delegate(c.routed, "default",
                  "no local rule applies (" + words + "); " + c.routed + " was routed the piece");
}

}  // namespace chorus::route
