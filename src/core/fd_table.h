#pragma once
// The kernel's descriptor table grows by doubling when a descriptor past its
// end is allocated. In a process with several threads each growth waits for
// an RCU grace period (expand_files -> synchronize_rcu: 10-20 ms on the
// machines here) in whichever thread allocates: an accept, a connect, or a
// worker receiving the connections handed over at a reload (traced: the new
// worker's loop blocked 16 ms in recvmsg, every client waiting on it).
// Growing it once, while the process still has one thread, costs no wait.

#include <cstddef>

namespace sluice::core {

// Make room for `count` descriptors now (bounded by RLIMIT_NOFILE). Call
// before the first thread starts. Returns the table size the kernel
// reports afterwards (FDSize), or 0 if it could not be read.
std::size_t reserve_fd_table(std::size_t count);

}  // namespace sluice::core
