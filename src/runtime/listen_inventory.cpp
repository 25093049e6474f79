#include "runtime/listen_inventory.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace sluice::runtime {

ListenInventory::~ListenInventory() {
  for (auto& e : entries_)
    for (int fd : e.fds) ::close(fd);
}

std::string ListenInventory::key(const config::Address& addr, const core::ListenOptions& opts) {
  std::string k = core::address_text(addr.storage, addr.length);
  if (opts.reuseport) k += " reuseport";
  if (opts.v6only) k += " v6only";
  if (opts.transparent) k += " transparent";
  if (!opts.interface.empty()) k += " interface " + opts.interface;
  if (opts.unix_mode) k += " mode " + std::to_string(*opts.unix_mode);
  if (opts.unix_uid) k += " uid " + std::to_string(*opts.unix_uid);
  if (opts.unix_gid) k += " gid " + std::to_string(*opts.unix_gid);
  return k;
}

Result<void> ListenInventory::prepare(const std::vector<ListenNeed>& plan) {
  for (auto& e : entries_) {
    e.wanted = false;
    e.committed = e.fds.size();
  }
  for (const auto& need : plan) {
    const std::string k = key(need.addr, need.opts);
    auto it =
        std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.key == k; });
    if (it == entries_.end()) {
      entries_.push_back(Entry{k, {}, 0, true});
      it = entries_.end() - 1;
    }
    it->wanted = true;
    // A kept socket takes the new backlog (listen() again only resizes it).
    for (int fd : it->fds) ::listen(fd, need.opts.backlog);
    while (it->fds.size() < need.count) {
      Result<int> fd = core::open_listener(need.addr, need.opts);
      if (!fd) {
        rollback();
        return make_error(fd.error());
      }
      it->fds.push_back(*fd);
    }
  }
  return {};
}

void ListenInventory::commit() {
  std::vector<Entry> kept;
  for (auto& e : entries_) {
    if (e.wanted) {
      e.committed = e.fds.size();
      kept.push_back(std::move(e));
      continue;
    }
    for (int fd : e.fds) ::close(fd);
  }
  entries_ = std::move(kept);
}

void ListenInventory::rollback() {
  std::vector<Entry> kept;
  for (auto& e : entries_) {
    while (e.fds.size() > e.committed) {
      ::close(e.fds.back());
      e.fds.pop_back();
    }
    e.wanted = true;
    if (!e.fds.empty()) kept.push_back(std::move(e));
  }
  entries_ = std::move(kept);
}

Result<std::vector<int>> ListenInventory::take(const config::Address& addr,
                                               const core::ListenOptions& opts,
                                               unsigned count) const {
  const std::string k = key(addr, opts);
  for (const auto& e : entries_) {
    if (e.key != k || !e.wanted) continue;
    if (e.fds.size() < count) break;
    return e.fds;
  }
  return make_error("the master holds no listening socket for " + k);
}

void ListenInventory::close_unused_in_child() const {
  for (const auto& e : entries_)
    if (!e.wanted)
      for (int fd : e.fds) ::close(fd);
}

std::size_t ListenInventory::size() const {
  std::size_t n = 0;
  for (const auto& e : entries_) n += e.fds.size();
  return n;
}

}  // namespace sluice::runtime
