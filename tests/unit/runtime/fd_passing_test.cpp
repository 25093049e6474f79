#include "runtime/fd_passing.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

namespace sluice::runtime {
namespace {

// A one-shot UNIX server that answers `_getsocks` with `fds` (or `refusal`).
struct OldProcess {
  std::string path;
  int lfd = -1;
  std::thread t;
  OldProcess(const KeyedFds& fds, std::string refusal = "") {
    path = "/tmp/sluice-fdp-" + std::to_string(::getpid()) + ".sock";
    ::unlink(path.c_str());
    lfd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strcpy(sa.sun_path, path.c_str());
    EXPECT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    EXPECT_EQ(::listen(lfd, 4), 0);
    t = std::thread([this, fds, refusal] {
      int c = ::accept(lfd, nullptr, nullptr);
      char buf[64];
      ssize_t n = ::read(c, buf, sizeof buf);
      EXPECT_EQ(std::string(buf, static_cast<std::size_t>(std::max<ssize_t>(n, 0))), "_getsocks\n");
      if (refusal.empty())
        EXPECT_TRUE(send_listening_fds(c, fds));
      else
        EXPECT_EQ(::write(c, refusal.data(), refusal.size()), static_cast<ssize_t>(refusal.size()));
      ::close(c);
    });
  }
  ~OldProcess() {
    t.join();
    ::close(lfd);
    ::unlink(path.c_str());
  }
};

ino_t inode(int fd) {
  struct stat st {};
  ::fstat(fd, &st);
  return st.st_ino;
}

TEST(FdPassing, KeysAndDescriptorsArriveInOrderAcrossBatches) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  KeyedFds mine;
  for (int i = 0; i < 205; ++i)  // more than one SCM_RIGHTS batch
    mine.emplace_back("key" + std::to_string(i), i % 2 ? p[1] : p[0]);
  OldProcess old(mine);
  auto got = fetch_listening_fds(old.path, 5000);
  ASSERT_TRUE(got) << got.error();
  ASSERT_EQ(got->size(), 205U);
  for (int i = 0; i < 205; ++i) {
    EXPECT_EQ((*got)[i].first, "key" + std::to_string(i));
    EXPECT_EQ(inode((*got)[i].second), inode(i % 2 ? p[1] : p[0]));
    ::close((*got)[i].second);
  }
  ::close(p[0]);
  ::close(p[1]);
}

TEST(FdPassing, NoListenersIsAnEmptyAnswer) {
  OldProcess old({});
  auto got = fetch_listening_fds(old.path, 5000);
  ASSERT_TRUE(got) << got.error();
  EXPECT_TRUE(got->empty());
}

TEST(FdPassing, RefusalAndMissingSocketAreErrors) {
  {
    OldProcess old({}, "Permission denied: needs expose-fd listeners\n");
    auto got = fetch_listening_fds(old.path, 5000);
    ASSERT_FALSE(got);
    EXPECT_NE(got.error().find("Permission denied"), std::string::npos) << got.error();
  }
  auto got = fetch_listening_fds("/tmp/sluice-no-such-socket.sock", 1000);
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().find("cannot connect"), std::string::npos) << got.error();
}

}  // namespace
}  // namespace sluice::runtime
