#include "core/fd_table.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace sluice::core {
namespace {

TEST(FdTable, GrowsToTheCountAskedFor) {
  rlimit rl{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_cur < 4096) GTEST_SKIP() << "RLIMIT_NOFILE below 4096";
  EXPECT_GE(reserve_fd_table(4096), 4096U);
}

TEST(FdTable, BoundedByTheDescriptorLimit) {
  rlimit rl{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  rlimit low = rl;
  low.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  // Asking for more than the limit grows the table only as far as it (and
  // the process goes on: nothing fails).
  const std::size_t size = reserve_fd_table(1 << 20);
  EXPECT_GT(size, 0U);
  EXPECT_LT(size, std::size_t{1} << 20);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

}  // namespace
}  // namespace sluice::core
