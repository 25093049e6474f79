// Layer-4 and internal-state fetches: addresses, ports, connection counts,
// server states, ids. Available from the first byte of a session.
#include <netinet/in.h>

#include <array>
#include <cstring>

#include "acl/fetch.h"

namespace sluice::acl {

namespace {

bool address_sample(const sockaddr_storage* ss, Sample& out) {
  if (ss == nullptr) return false;
  out.type = SampleType::Ip;
  if (ss->ss_family == AF_INET) {
    out.ip.family = AF_INET;
    std::memcpy(out.ip.bytes, &reinterpret_cast<const sockaddr_in*>(ss)->sin_addr, 4);
    return true;
  }
  if (ss->ss_family == AF_INET6) {
    out.ip.family = AF_INET6;
    std::memcpy(out.ip.bytes, &reinterpret_cast<const sockaddr_in6*>(ss)->sin6_addr, 16);
    return true;
  }
  return false;
}

bool port_sample(const sockaddr_storage* ss, Sample& out) {
  if (ss == nullptr) return false;
  out.type = SampleType::Int;
  if (ss->ss_family == AF_INET) {
    out.integer = ntohs(reinterpret_cast<const sockaddr_in*>(ss)->sin_port);
    return true;
  }
  if (ss->ss_family == AF_INET6) {
    out.integer = ntohs(reinterpret_cast<const sockaddr_in6*>(ss)->sin6_port);
    return true;
  }
  return false;
}

bool int_sample(std::optional<std::int64_t> v, Sample& out) {
  if (!v) return false;
  out.type = SampleType::Int;
  out.integer = *v;
  return true;
}

bool fetch_src(const SampleSource& s, const FetchArgs&, Sample& out) {
  return address_sample(s.source(), out);
}
bool fetch_dst(const SampleSource& s, const FetchArgs&, Sample& out) {
  return address_sample(s.destination(), out);
}
bool fetch_src_port(const SampleSource& s, const FetchArgs&, Sample& out) {
  return port_sample(s.source(), out);
}
bool fetch_dst_port(const SampleSource& s, const FetchArgs&, Sample& out) {
  return port_sample(s.destination(), out);
}
bool fetch_true(const SampleSource&, const FetchArgs&, Sample& out) {
  out.type = SampleType::Bool;
  out.boolean = true;
  return true;
}
bool fetch_false(const SampleSource&, const FetchArgs&, Sample& out) {
  out.type = SampleType::Bool;
  out.boolean = false;
  return true;
}
bool fetch_fe_conn(const SampleSource& s, const FetchArgs& a, Sample& out) {
  return int_sample(s.frontend_conns(a.proxy_ref()), out);
}
bool fetch_be_conn(const SampleSource& s, const FetchArgs& a, Sample& out) {
  return int_sample(s.backend_conns(a.proxy_ref()), out);
}
bool fetch_nbsrv(const SampleSource& s, const FetchArgs& a, Sample& out) {
  return int_sample(s.usable_servers(a.proxy_ref()), out);
}
bool fetch_connslots(const SampleSource& s, const FetchArgs& a, Sample& out) {
  return int_sample(s.connslots(a.proxy_ref()), out);
}
bool fetch_srv_conn(const SampleSource& s, const FetchArgs& a, Sample& out) {
  return int_sample(s.server_conns(a.server_ref()), out);
}
bool fetch_srv_is_up(const SampleSource& s, const FetchArgs& a, Sample& out) {
  auto v = s.server_is_up(a.server_ref());
  if (!v) return false;
  out.type = SampleType::Bool;
  out.boolean = *v;
  return true;
}
bool fetch_fe_id(const SampleSource& s, const FetchArgs&, Sample& out) {
  return int_sample(s.frontend_id(), out);
}
bool fetch_be_id(const SampleSource& s, const FetchArgs&, Sample& out) {
  return int_sample(s.backend_id(), out);
}

using enum ArgShape;
using T = SampleType;
using M = MatchKind;

constexpr std::array kL4Fetches{
    FetchDef{"src", None, T::Ip, M::Ip, fetch_src, "client address"},
    FetchDef{"src_port", None, T::Int, M::Int, fetch_src_port, "client port"},
    FetchDef{"dst", None, T::Ip, M::Ip, fetch_dst, "address the client connected to"},
    FetchDef{"dst_port", None, T::Int, M::Int, fetch_dst_port, "port the client connected to"},
    FetchDef{"always_true", None, T::Bool, M::Bool, fetch_true, "always true"},
    FetchDef{"always_false", None, T::Bool, M::Bool, fetch_false, "always false"},
    FetchDef{"fe_conn", OptProxy, T::Int, M::Int, fetch_fe_conn, "frontend current connections"},
    FetchDef{"be_conn", OptProxy, T::Int, M::Int, fetch_be_conn, "backend current connections"},
    FetchDef{"nbsrv", OptProxy, T::Int, M::Int, fetch_nbsrv, "usable servers of a backend"},
    FetchDef{"connslots", OptProxy, T::Int, M::Int, fetch_connslots,
             "free connection and queue slots of a backend (-1: unlimited)"},
    FetchDef{"srv_conn", Server, T::Int, M::Int, fetch_srv_conn, "server current connections"},
    FetchDef{"srv_is_up", Server, T::Bool, M::Bool, fetch_srv_is_up, "server is UP"},
    FetchDef{"fe_id", None, T::Int, M::Int, fetch_fe_id, "frontend id"},
    FetchDef{"be_id", None, T::Int, M::Int, fetch_be_id, "backend id"},
};

// Names HAProxy's ACLs know that Sluice does not implement yet: a clear
// "not implemented yet" beats "unknown fetch" for an operator's haproxy.cfg.
constexpr std::array kPlanned{
    FetchDef{"hdr", OptStrOptInt, T::Str, M::Str, nullptr, ""},
    FetchDef{"hdr_beg", OptStrOptInt, T::Str, M::Beg, nullptr, ""},
    FetchDef{"hdr_end", OptStrOptInt, T::Str, M::End, nullptr, ""},
    FetchDef{"hdr_sub", OptStrOptInt, T::Str, M::Sub, nullptr, ""},
    FetchDef{"hdr_reg", OptStrOptInt, T::Str, M::Reg, nullptr, ""},
    FetchDef{"hdr_dom", OptStrOptInt, T::Str, M::Dom, nullptr, ""},
    FetchDef{"hdr_dir", OptStrOptInt, T::Str, M::Dir, nullptr, ""},
    FetchDef{"hdr_len", OptStrOptInt, T::Str, M::Len, nullptr, ""},
    FetchDef{"hdr_cnt", OptStrOptInt, T::Int, M::Int, nullptr, ""},
    FetchDef{"hdr_val", OptStrOptInt, T::Int, M::Int, nullptr, ""},
    FetchDef{"hdr_ip", OptStrOptInt, T::Ip, M::Ip, nullptr, ""},
    FetchDef{"path", None, T::Str, M::Str, nullptr, ""},
    FetchDef{"path_beg", None, T::Str, M::Beg, nullptr, ""},
    FetchDef{"path_end", None, T::Str, M::End, nullptr, ""},
    FetchDef{"path_sub", None, T::Str, M::Sub, nullptr, ""},
    FetchDef{"path_reg", None, T::Str, M::Reg, nullptr, ""},
    FetchDef{"path_dir", None, T::Str, M::Dir, nullptr, ""},
    FetchDef{"path_dom", None, T::Str, M::Dom, nullptr, ""},
    FetchDef{"path_len", None, T::Str, M::Len, nullptr, ""},
    FetchDef{"url", None, T::Str, M::Str, nullptr, ""},
    FetchDef{"url_beg", None, T::Str, M::Beg, nullptr, ""},
    FetchDef{"url_end", None, T::Str, M::End, nullptr, ""},
    FetchDef{"url_sub", None, T::Str, M::Sub, nullptr, ""},
    FetchDef{"url_reg", None, T::Str, M::Reg, nullptr, ""},
    FetchDef{"url_param", OptStrOptInt, T::Str, M::Str, nullptr, ""},
    FetchDef{"method", None, T::Str, M::Str, nullptr, ""},
    FetchDef{"req.hdr", OptStrOptInt, T::Str, M::Str, nullptr, ""},
    FetchDef{"req.cook", OptStrOptInt, T::Str, M::Str, nullptr, ""},
    FetchDef{"cook", OptStrOptInt, T::Str, M::Str, nullptr, ""},
    FetchDef{"status", None, T::Int, M::Int, nullptr, ""},
    FetchDef{"req.ssl_sni", None, T::Str, M::Str, nullptr, ""},
    FetchDef{"ssl_fc", None, T::Bool, M::Bool, nullptr, ""},
    FetchDef{"ssl_fc_sni", None, T::Str, M::Str, nullptr, ""},
    FetchDef{"req.len", None, T::Int, M::Int, nullptr, ""},
    FetchDef{"req_len", None, T::Int, M::Int, nullptr, ""},
    FetchDef{"req.payload", OptStrOptInt, T::Str, M::Str, nullptr, ""},
    FetchDef{"queue", OptProxy, T::Int, M::Int, nullptr, ""},
    FetchDef{"avg_queue", OptProxy, T::Int, M::Int, nullptr, ""},
    FetchDef{"be_sess_rate", OptProxy, T::Int, M::Int, nullptr, ""},
    FetchDef{"fe_sess_rate", OptProxy, T::Int, M::Int, nullptr, ""},
    FetchDef{"sc0_conn_cur", None, T::Int, M::Int, nullptr, ""},
};

}  // namespace

std::span<const FetchDef> l4_fetches() {
  return kL4Fetches;
}
std::span<const FetchDef> planned_fetches() {
  return kPlanned;
}

}  // namespace sluice::acl
