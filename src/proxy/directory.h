#pragma once
// Every frontend and backend of the running configuration, for lookups by
// the name or id a fetch argument gives (be_conn(app), srv_is_up(app/web1)).

#include <vector>

#include "acl/sample.h"
#include "proxy/backend.h"
#include "proxy/frontend.h"

namespace sluice::proxy {

struct Directory {
  std::vector<Frontend*> frontends;
  std::vector<Backend*> backends;

  Frontend* frontend(const acl::ProxyRef& ref) const {
    for (auto* f : frontends)
      if ((ref.id != 0 && f->def().id == ref.id) || (ref.id == 0 && f->name() == ref.name)) return f;
    return nullptr;
  }
  Backend* backend(const acl::ProxyRef& ref) const {
    for (auto* b : backends)
      if ((ref.id != 0 && b->def().id == ref.id) || (ref.id == 0 && b->name() == ref.name)) return b;
    return nullptr;
  }
};

}  // namespace sluice::proxy
