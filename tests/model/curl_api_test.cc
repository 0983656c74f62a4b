// Loading libcurl at run time: the fallbacks between Debian's libcurl flavours, and the errors
// a machine without a usable libcurl gets (LoadCurl itself keeps one outcome per process, so
// these go through LoadCurlInto).
#include "model/curl_api.h"

#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace chorus {
namespace {

using ::testing::HasSubstr;

TEST(CurlApi, NoLoadableLibraryNamesEveryAttemptAndWhatToInstall) {
  const char* const sonames[] = {"libcurl-chorus-test-missing.so.4",
                                 "libcurl-chorus-test-gone.so.4"};
  CurlApi api{};
  Status status = LoadCurlInto(sonames, &api);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("https and proxied requests need libcurl"));
  EXPECT_THAT(status.message(), HasSubstr("libcurl-chorus-test-missing.so.4"));
  EXPECT_THAT(status.message(), HasSubstr("libcurl-chorus-test-gone.so.4"));
  EXPECT_THAT(status.message(), HasSubstr("install Debian's libcurl4"));
  EXPECT_EQ(api.easy_init, nullptr);
}

TEST(CurlApi, ALibraryThatIsNotLibcurlIsRefusedByItsFirstMissingFunction) {
  const char* const sonames[] = {"libm.so.6"};
  CurlApi api{};
  Status status = LoadCurlInto(sonames, &api);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("libm.so.6 has no curl_global_init"));
  EXPECT_EQ(api.global_init, nullptr);  // nothing half-filled
}

TEST(CurlApi, AMissingNameFallsThroughToTheNext) {
  const char* const sonames[] = {"libcurl-chorus-test-missing.so.4", "libcurl.so.4"};
  CurlApi api{};
  Status status = LoadCurlInto(sonames, &api);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_NE(api.easy_init, nullptr);
  CURL* easy = api.easy_init();
  ASSERT_NE(easy, nullptr);
  api.easy_cleanup(easy);
}

TEST(CurlApi, TheGnuTlsFlavourServesWhenItIsTheOneInstalled) {
  // Debian's libcurl3-gnutls (which git depends on) has the same ABI under another name.
  if (void* probe = dlopen("libcurl-gnutls.so.4", RTLD_NOW | RTLD_LOCAL); probe == nullptr) {
    GTEST_SKIP() << "libcurl3-gnutls is not installed";
  }
  const char* const sonames[] = {"libcurl-chorus-test-missing.so.4", "libcurl-gnutls.so.4"};
  CurlApi api{};
  Status status = LoadCurlInto(sonames, &api);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_NE(api.multi_socket_action, nullptr);
  EXPECT_STREQ(api.easy_strerror(CURLE_OK), "No error");
}

}  // namespace
}  // namespace chorus
