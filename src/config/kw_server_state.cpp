// Handlers of the server state file keywords: `server-state-base`,
// `server-state-file` (global), `load-server-state-from-file` and
// `server-state-file-name` (defaults, listen, backend).

#include "config/kw_util.h"
#include "config/parser.h"

namespace sluice::config::kw {

Result<void> server_state_base(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a directory"); !r) return r;
  p.global().server_state_base = st.args[0];
  return {};
}

Result<void> server_state_file(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "a file name"); !r) return r;
  p.global().server_state_file = st.args[0];
  return {};
}

Result<void> load_server_state_from_file(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 1, 1, "'global', 'local' or 'none'"); !r) return r;
  const std::string& v = st.args[0];
  using L = Proxy::LoadState;
  if (v == "global")
    p.proxy().load_server_state = L::Global;
  else if (v == "local")
    p.proxy().load_server_state = L::Local;
  else if (v == "none")
    p.proxy().load_server_state = L::None;
  else
    return make_error("expects 'global', 'local' or 'none'. Got " + quote(v));
  return {};
}

Result<void> server_state_file_name(Parser& p, const Stmt& st) {
  if (auto r = want_args(st, 0, 1, "a file name or 'use-backend-name'"); !r) return r;
  // Empty means the backend's own name (HAProxy's use-backend-name).
  p.proxy().server_state_file_name =
      st.args.empty() || st.args[0] == "use-backend-name" ? "" : st.args[0];
  return {};
}

}  // namespace sluice::config::kw
