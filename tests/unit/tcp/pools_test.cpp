#include "tcp/pools.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace sluice::tcp {
namespace {

TEST(BufferPool, ReusesBuffers) {
  BufferPool pool(16384);
  auto a = pool.get();
  char* raw = a.get();
  pool.put(std::move(a));
  EXPECT_EQ(pool.idle(), 1U);
  auto b = pool.get();
  EXPECT_EQ(b.get(), raw);
  EXPECT_EQ(pool.idle(), 0U);
}

TEST(PipePool, ReusesEmptyPipesOnly) {
  PipePool pool;
  Pipe p = pool.get();
  ASSERT_TRUE(p.valid());
  pool.put(p, true);
  EXPECT_EQ(pool.idle(), 1U);
  Pipe q = pool.get();
  EXPECT_EQ(q.rd, p.rd);
  ASSERT_EQ(::write(q.wr, "x", 1), 1);
  pool.put(q, false);  // data left: closed, not pooled
  EXPECT_EQ(pool.idle(), 0U);
}

}  // namespace
}  // namespace sluice::tcp
