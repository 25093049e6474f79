// `master-worker [no-exit-on-failure]` in global.

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace sluice::config {
namespace {

using testing::errors;
using testing::joined;
using testing::load;
using V = std::vector<std::string>;

TEST(ConfigMasterWorker, Accepted) {
  auto r = load("global\n  master-worker\n");
  ASSERT_TRUE(r.ok()) << joined(errors(r));
  EXPECT_TRUE(r.model.global.master_worker);
  EXPECT_TRUE(r.model.global.exit_on_failure);

  auto n = load("global\n  master-worker no-exit-on-failure\n");
  ASSERT_TRUE(n.ok()) << joined(errors(n));
  EXPECT_TRUE(n.model.global.master_worker);
  EXPECT_FALSE(n.model.global.exit_on_failure);

  auto none = load("global\n  daemon\n");
  EXPECT_FALSE(none.model.global.master_worker);
}

TEST(ConfigMasterWorker, BadArgument) {
  auto bad = load("global\n  master-worker always\n");
  EXPECT_EQ(errors(bad), (V{"t.cfg:2: [master-worker] expects no argument or "
                            "'no-exit-on-failure', got 'always'"}));
}

}  // namespace
}  // namespace sluice::config
