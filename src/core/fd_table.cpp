#include "core/fd_table.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

namespace sluice::core {

namespace {

std::size_t table_size() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("FDSize:", 0) == 0) return std::stoul(line.substr(7));
  return 0;
}

}  // namespace

std::size_t reserve_fd_table(std::size_t count) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    count = std::min<std::size_t>(count, rl.rlim_cur);
  if (count > 64) {
    // A descriptor at count - 1 makes the kernel size the table for it.
    const int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (probe >= 0) {
      const int high = ::fcntl(probe, F_DUPFD_CLOEXEC, static_cast<int>(count - 1));
      if (high >= 0) ::close(high);
      ::close(probe);
    }
  }
  return table_size();
}

}  // namespace sluice::core
