// Names of entity types as they appear in pseudonyms, JSON and the CLI.
#include <array>

#include "chorus/privacy.h"

namespace chorus {
namespace {
constexpr std::array<std::string_view, kEntityTypeCount> kNames = {
    "PERSON", "CLIENT", "EMAIL", "PHONE",   "CREDIT_CARD",  "IBAN",
    "SSN",    "IP",     "URL",   "ADDRESS", "DATE_OF_BIRTH"};
}  // namespace

std::string_view EntityTypeName(EntityType type) { return kNames[static_cast<int>(type)]; }

Result<EntityType> ParseEntityType(std::string_view name) {
  for (int i = 0; i < kEntityTypeCount; ++i) {
    if (kNames[i] == name) return static_cast<EntityType>(i);
  }
  return Err(
      Status::InvalidArgument("expected an entity type (PERSON, CLIENT, EMAIL, PHONE, "
                              "CREDIT_CARD, IBAN, SSN, IP, URL, ADDRESS, DATE_OF_BIRTH), "
                              "found '" +
                              std::string(name) + "'"));
}

}  // namespace chorus
