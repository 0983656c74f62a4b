// Detector behaviour on hand-written texts: each structured type with its validation, the hard
// negatives that must stay untouched, and the name heuristics.
#include <gtest/gtest.h>

#include "chorus/privacy.h"
#include "privacy/scan.h"

namespace chorus {
namespace {

class Detect : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PiiDetectorOptions o;
    o.entities = {"Acme Corp.", "Globex GmbH"};
    auto d = PiiDetector::Make(o);
    ASSERT_TRUE(d) << d.error().ToString();
    detector_ = std::move(*d).release();
  }
  // "TYPE:value" for each span, in order.
  static std::vector<std::string> Found(std::string_view text) {
    std::vector<std::string> out;
    for (const PiiSpan& s : detector_->Detect(text)) {
      out.push_back(std::string(EntityTypeName(s.type)) + ":" +
                    std::string(text.substr(s.start, s.end - s.start)));
    }
    return out;
  }
  static inline PiiDetector* detector_ = nullptr;
};

using V = std::vector<std::string>;

TEST(Validators, LuhnAndIssuerRanges) {
  EXPECT_TRUE(privacy::LuhnValid("4111111111111111"));
  EXPECT_FALSE(privacy::LuhnValid("4111111111111112"));
  EXPECT_TRUE(privacy::CardIinValid("2221000000000009"));  // Mastercard 2-series
  EXPECT_TRUE(privacy::CardIinValid("2720990000000007"));
  EXPECT_FALSE(privacy::CardIinValid("2721000000000000"));
  EXPECT_TRUE(privacy::CardIinValid("4000000000000000006"));  // 19-digit Visa
  EXPECT_FALSE(
      privacy::CardIinValid("378282246310005"
                            "1"));                       // Amex is 15 digits
  EXPECT_FALSE(privacy::CardIinValid("9780306406157"));  // an ISBN is no card
}

TEST(Validators, IbanChecksumAndCountryLength) {
  EXPECT_TRUE(privacy::IbanValid("DE89370400440532013000"));
  EXPECT_TRUE(privacy::IbanValid("GB82WEST12345698765432"));
  EXPECT_FALSE(privacy::IbanValid("DE89370400440532013001"));  // checksum
  EXPECT_FALSE(privacy::IbanValid("DE8937040044053201300"));   // DE is 22 characters
  EXPECT_FALSE(privacy::IbanValid("ZZ89370400440532013000"));  // no such country
}

TEST(Validators, SsnExcludesInvalidRanges) {
  EXPECT_TRUE(privacy::SsnValid("123456789"));
  EXPECT_FALSE(privacy::SsnValid("000456789"));
  EXPECT_FALSE(privacy::SsnValid("666456789"));
  EXPECT_FALSE(privacy::SsnValid("912456789"));
  EXPECT_FALSE(privacy::SsnValid("123006789"));
  EXPECT_FALSE(privacy::SsnValid("123450000"));
}

TEST(Validators, PhonePlanLengths) {
  EXPECT_TRUE(privacy::InternationalPhoneValid("442079460958"));
  EXPECT_FALSE(privacy::InternationalPhoneValid("4420794609"));  // too short for +44
  EXPECT_TRUE(privacy::InternationalPhoneValid("14155550132"));
  EXPECT_FALSE(privacy::InternationalPhoneValid("999123456789"));  // unassigned code
}

TEST_F(Detect, StructuredValues) {
  EXPECT_EQ(Found("Mail anna.k+news@mail.example.co.uk today."),
            V{"EMAIL:anna.k+news@mail.example.co.uk"});
  EXPECT_EQ(Found("Card 4111 1111 1111 1111, Amex 3782 822463 10005."),
            V({"CREDIT_CARD:4111 1111 1111 1111", "CREDIT_CARD:3782 822463 10005"}));
  EXPECT_EQ(Found("Pay to DE89 3704 0044 0532 0130 00 please"),
            V{"IBAN:DE89 3704 0044 0532 0130 00"});
  EXPECT_EQ(Found("SSN 123-45-6789; not 666-45-6789"), V{"SSN:123-45-6789"});
  EXPECT_EQ(Found("From 10.0.0.12 and fe80::1ff:fe23:4567:890a."),
            V({"IP:10.0.0.12", "IP:fe80::1ff:fe23:4567:890a"}));
  EXPECT_EQ(Found("See https://crm.example.com/a?b=1)."), V{"URL:https://crm.example.com/a?b=1"});
}

TEST_F(Detect, PhonesInternationalAndNational) {
  EXPECT_EQ(Found("Call +44 (0)20 7946 0958 or (415) 555-2671."),
            V({"PHONE:+44 (0)20 7946 0958", "PHONE:(415) 555-2671"}));
  EXPECT_EQ(Found("Tel: 030 1234567, mobile +49 171 1234567"),
            V({"PHONE:030 1234567", "PHONE:+49 171 1234567"}));
  EXPECT_EQ(Found("Bureau: 01 23 45 67 89"), V{"PHONE:01 23 45 67 89"});
}

TEST_F(Detect, HardNegativesStayUntouched) {
  const char* text =
      "Upgrade to v2.4.1 or version 10.2.0.1. Order #48213377 and PO-2024-11-4432 with part "
      "A-4512-B, ISBN 978-3-16-148410-0. Old number 4111 1111 1111 1112. At 2024-03-14 10:22:31 "
      "the price was $1,299.00 (€45.50) for 2023. The Quarterly Budget Review and Marketing "
      "Roadmap went to the Steering Committee on Monday. Tracking 123456789012.";
  EXPECT_EQ(Found(text), V{});
}

TEST_F(Detect, DatesOfBirthNeedContext) {
  EXPECT_EQ(Found("Born on 12 March 1985 in Leeds. Invoice dated 12 March 2023."),
            V{"DATE_OF_BIRTH:12 March 1985"});
  EXPECT_EQ(Found("DOB: 1985-03-12"), V{"DATE_OF_BIRTH:1985-03-12"});
}

TEST_F(Detect, StreetAddresses) {
  EXPECT_EQ(Found("Send it to 221B Baker Street, London."), V{"ADDRESS:221B Baker Street"});
  EXPECT_EQ(Found("Office: Hauptstraße 12, Berlin"), V{"ADDRESS:Hauptstraße 12"});
  EXPECT_EQ(Found("at 12 rue de la Paix"), V{"ADDRESS:12 rue de la Paix"});
  EXPECT_EQ(Found("We sold 12 Large Boxes."), V{});
}

TEST_F(Detect, ClientsAnyCaseWithOrWithoutSuffix) {
  EXPECT_EQ(Found("ACME told globex gmbh that Acme Corp, Inc was late; acmeville is fine."),
            V({"CLIENT:ACME", "CLIENT:globex gmbh", "CLIENT:Acme Corp"}));
}

TEST_F(Detect, NamesFromGazetteerAndContext) {
  EXPECT_EQ(Found("I met Anna Schmidt today."), V{"PERSON:Anna Schmidt"});
  EXPECT_EQ(Found("Dear Zebulon,\nthanks."), V{"PERSON:Zebulon"});
  EXPECT_EQ(Found("Approved by Dr. Okonkwo-Baptiste."), V{"PERSON:Okonkwo-Baptiste"});
  EXPECT_EQ(Found("Best regards,\nQuentavius Drummle\n"), V{"PERSON:Quentavius Drummle"});
  EXPECT_EQ(Found("Attendees: Zeynep Kaya, Tomasz Wojcik"),
            V({"PERSON:Zeynep Kaya", "PERSON:Tomasz Wojcik"}));
}

TEST_F(Detect, LaterMentionsInAnyCaseFollowTheName) {
  EXPECT_EQ(Found("Anna Schmidt called. ANNA wants the file; ping schmidt."),
            V({"PERSON:Anna Schmidt", "PERSON:ANNA", "PERSON:schmidt"}));
}

TEST_F(Detect, OrdinaryWordsThatAreAlsoNamesNeedContext) {
  EXPECT_EQ(Found("Will you mark the invoice? May is busy. Grace periods end."), V{});
  EXPECT_EQ(Found("Hi Grace, the grant is approved."), V{"PERSON:Grace"});
}

TEST_F(Detect, NameInsideEmailIsOneEmail) {
  EXPECT_EQ(Found("Write to anna.schmidt@example.com"), V{"EMAIL:anna.schmidt@example.com"});
}

}  // namespace
}  // namespace chorus

namespace chorus {
namespace {

// Regression: a surname that is also a dictionary word ("roe") was left in clear text.
TEST(NameScannerRegression, SurnameThatIsAnOrdinaryWordStaysWithItsFirstName) {
  auto detector = PiiDetector::Make({});
  ASSERT_TRUE(detector) << detector.error().ToString();
  std::string text = "Contact Jane Roe at the office about Tom Baker's invoice.";
  std::vector<std::string> found;
  for (const PiiSpan& s : (*detector)->Detect(text)) {
    if (s.type == EntityType::kPerson) found.push_back(text.substr(s.start, s.end - s.start));
  }
  EXPECT_EQ(found, (std::vector<std::string>{"Jane Roe", "Tom Baker"}));
}

}  // namespace
}  // namespace chorus

namespace chorus {
namespace {

// Regression (found by AddressSanitizer): a repeated mention of a found name as the very first
// word of the text read the token before it, which does not exist.
TEST(NameScannerRegression, RepeatedNameAsTheFirstWordIsFoundSafely) {
  auto detector = PiiDetector::Make({});
  ASSERT_TRUE(detector) << detector.error().ToString();
  std::string text = "Schmidt called twice. Later Anna Schmidt wrote again.";
  std::vector<std::string> found;
  for (const PiiSpan& s : (*detector)->Detect(text)) {
    if (s.type == EntityType::kPerson) found.push_back(text.substr(s.start, s.end - s.start));
  }
  EXPECT_EQ(found, (std::vector<std::string>{"Schmidt", "Anna Schmidt"}));
}

}  // namespace
}  // namespace chorus
