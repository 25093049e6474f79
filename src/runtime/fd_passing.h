#pragma once
// Listening sockets handed from a running Sluice to a new one (`-x SOCKET`,
// `stats socket ... expose-fd listeners`), so the new process accepts on the
// very sockets the old one listens on: nothing queued in a backlog is lost.
//
// Wire format of `_getsocks` (between two Sluice processes, over a UNIX
// stats socket at level admin with expose-fd listeners):
//   client: "_getsocks\n"
//   server: text "<n>\n" then n lines "<key>\n" (ListenInventory::key: the
//           address and bind-time options), then the n descriptors in
//           order, sent by SCM_RIGHTS in batches of at most 200, each batch
//           carried by one byte 'F'; then it closes.
// Refused (level or expose-fd missing): a one-line text answer, no fds.

#include <sys/socket.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "util/result.h"

namespace sluice::runtime {

using KeyedFds = std::vector<std::pair<std::string, int>>;

// Server side: writes the answer on `fd` (blocking until written or 5 s).
Result<void> send_listening_fds(int fd, const KeyedFds& fds);

// One sendmsg of `len` bytes with `nfds` descriptors attached (SCM_RIGHTS;
// none when 0, at most 253). Returns what sendmsg returns.
ssize_t send_with_fds(int fd, const char* data, std::size_t len, const int* fds, std::size_t nfds,
                      int flags);

// recvmsg into `buf` with room for the descriptors a message can carry
// (SCM_RIGHTS, close-on-exec): each is given to `on_fd`, the caller's to
// keep or close. `msg_flags`, if given, gets the message's flags
// (MSG_TRUNC, MSG_CTRUNC). Returns what recvmsg returns.
ssize_t recv_with_fds(int fd, char* buf, std::size_t len, int flags,
                      const std::function<void(int)>& on_fd, int* msg_flags = nullptr);

// Client side: connects to `path`, asks, returns the sockets (now ours).
Result<KeyedFds> fetch_listening_fds(const std::string& path, int timeout_ms);

// `_handoff` (runtime/handoff.h), between two Sluice processes over the same
// socket: the new process sends "_handoff\n" with the sending end of a
// hand-over channel attached (SCM_RIGHTS); the old one keeps it and answers
// "OK\n" (its idle keep-alive connections go there when it stops softly),
// or a one-line refusal. Client side: offers `chan` (still ours to close).
Result<void> offer_handoff_channel(const std::string& path, int chan, int timeout_ms);

}  // namespace sluice::runtime
