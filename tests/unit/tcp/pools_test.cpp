#include "tcp/pools.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <vector>

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

TEST(BufferPool, LargeBuffersArePooledApartAndBounded) {
  BufferPool pool(16384, 256 * 1024);
  EXPECT_EQ(pool.large_size(), 256U * 1024);
  auto a = pool.get_large();
  char* raw = a.get();
  a[256 * 1024 - 1] = 'x';  // the whole size is ours
  pool.put_large(std::move(a));
  EXPECT_EQ(pool.idle_large(), 1U);
  EXPECT_EQ(pool.idle(), 0U);
  auto b = pool.get_large();
  EXPECT_EQ(b.get(), raw);
  pool.put_large(std::move(b));

  // At most kMaxIdleLarge stay idle; the rest are freed.
  std::vector<std::unique_ptr<char[]>> many;
  for (std::size_t i = 0; i < BufferPool::kMaxIdleLarge + 4; ++i) many.push_back(pool.get_large());
  for (auto& m : many) pool.put_large(std::move(m));
  EXPECT_EQ(pool.idle_large(), BufferPool::kMaxIdleLarge);
}

TEST(BufferPool, LargeNeverSmallerThanConfigured) {
  BufferPool pool(1024 * 1024, 256 * 1024);  // tune.bufsize above the large size
  EXPECT_EQ(pool.large_size(), 1024U * 1024);
}

TEST(PipePool, GrowsPipesWhenAllowed) {
  PipePool pool(256 * 1024);
  Pipe p = pool.get();
  ASSERT_TRUE(p.valid());
  const int real = fcntl(p.wr, F_GETPIPE_SZ);
  EXPECT_EQ(static_cast<std::size_t>(real), p.size);  // splices are sized from p.size
  pool.put(p, true);

  PipePool plain(0);  // kernel default
  Pipe q = plain.get();
  ASSERT_TRUE(q.valid());
  EXPECT_EQ(static_cast<std::size_t>(fcntl(q.wr, F_GETPIPE_SZ)), q.size);
  plain.put(q, true);
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
