// ACLs: the sample fetch table, `acl` lines, anonymous `{ ... }` ACLs,
// `if`/`unless` conditions and `use_backend`.

#include <arpa/inet.h>
#include <unistd.h>

#include "config/kw_util.h"
#include "config/parser.h"
#include "config/values.h"

namespace sluice::config {
namespace {

constexpr KwStatus I = KwStatus::Implemented;
constexpr KwStatus N = KwStatus::NotYet;

// clang-format off
constexpr FetchKeyword kFetchKeywords[] = {
    {"src", I, 0, 0, "ip", "", nullptr, "client address"},
    {"src_port", I, 0, 0, "int", "", nullptr, "client port"},
    {"dst", I, 0, 0, "ip", "", nullptr, "local address the client connected to"},
    {"dst_port", I, 0, 0, "int", "", nullptr, "local port the client connected to"},
    {"always_true", I, 0, 0, "bool", "", nullptr, "always matches"},
    {"always_false", I, 0, 0, "bool", "", nullptr, "never matches"},
    {"fe_conn", I, 0, 1, "int", "[FRONTEND]", nullptr, "current connections of a frontend"},
    {"be_conn", I, 0, 1, "int", "[BACKEND]", nullptr, "current connections of a backend"},
    {"nbsrv", I, 0, 1, "int", "[BACKEND]", nullptr, "usable servers of a backend"},
    {"connslots", I, 0, 1, "int", "[BACKEND]", nullptr, "free connection and queue slots"},
    {"srv_conn", I, 1, 1, "int", "[BACKEND/]SERVER", nullptr, "current connections of a server"},
    {"srv_is_up", I, 1, 1, "bool", "[BACKEND/]SERVER", nullptr, "whether a server is up"},
    {"fe_id", I, 0, 0, "int", "", nullptr, "id of the frontend"},
    {"be_id", I, 0, 0, "int", "", nullptr, "id of the backend"},
    {"so_id", I, 0, 0, "int", "", nullptr, "id of the listening socket"},
    {"hdr", I, 0, 2, "str", "[NAME[,OCC]]", nullptr, "request header value"},
    {"req.hdr", I, 0, 2, "str", "[NAME[,OCC]]", nullptr, "request header value"},
    {"hdr_cnt", I, 0, 1, "int", "[NAME]", nullptr, "number of request header values"},
    {"req.hdr_cnt", I, 0, 1, "int", "[NAME]", nullptr, "number of request header values"},
    {"method", I, 0, 0, "str", "", nullptr, "request method"},
    {"path", I, 0, 0, "str", "", nullptr, "request path"},
    {"url", I, 0, 0, "str", "", nullptr, "request target"},
    {"query", I, 0, 0, "str", "", nullptr, "query string"},
    {"url_param", I, 1, 2, "str", "NAME[,DELIM]", nullptr, "query string parameter"},
    {"urlp", I, 1, 2, "str", "NAME[,DELIM]", nullptr, "query string parameter"},
    {"req.cook", I, 1, 1, "str", "NAME", nullptr, "request cookie value"},
    {"cook", I, 1, 1, "str", "NAME", nullptr, "request cookie value"},
    {"status", I, 0, 0, "int", "", nullptr, "response status"},
    {"res.hdr", I, 0, 2, "str", "[NAME[,OCC]]", nullptr, "response header value"},
    {"res.hdr_cnt", I, 0, 1, "int", "[NAME]", nullptr, "number of response header values"},
    {"res.cook", I, 1, 1, "str", "NAME", nullptr, "response Set-Cookie value"},
    {"http_auth", I, 1, 1, "bool", "USERLIST", nullptr, "Basic credentials valid in a userlist"},
    {"http_auth_group", I, 1, 1, "str", "USERLIST", nullptr, "valid user of a userlist (ACL: in one of the groups)"},
    // not implemented yet (HAProxy 2.6's fetches)
    {"avg_queue", N, 0, 255, "", "", nullptr, ""}, {"base", N, 0, 255, "", "", nullptr, ""}, {"base32", N, 0, 255, "", "", nullptr, ""}, {"baseq", N, 0, 255, "", "", nullptr, ""}, {"bc_dst", N, 0, 255, "", "", nullptr, ""},
    {"bc_dst_port", N, 0, 255, "", "", nullptr, ""}, {"bc_err", N, 0, 255, "", "", nullptr, ""}, {"bc_err_str", N, 0, 255, "", "", nullptr, ""}, {"bc_http_major", N, 0, 255, "", "", nullptr, ""}, {"bc_src", N, 0, 255, "", "", nullptr, ""},
    {"bc_src_port", N, 0, 255, "", "", nullptr, ""}, {"be_conn_free", N, 0, 255, "", "", nullptr, ""}, {"be_name", N, 0, 255, "", "", nullptr, ""}, {"be_server_timeout", N, 0, 255, "", "", nullptr, ""}, {"be_sess_rate", N, 0, 255, "", "", nullptr, ""},
    {"be_tunnel_timeout", N, 0, 255, "", "", nullptr, ""}, {"bin", N, 0, 255, "", "", nullptr, ""}, {"bool", N, 0, 255, "", "", nullptr, ""}, {"capture.req.hdr", N, 0, 255, "", "", nullptr, ""}, {"capture.req.method", N, 0, 255, "", "", nullptr, ""},
    {"capture.req.uri", N, 0, 255, "", "", nullptr, ""}, {"capture.req.ver", N, 0, 255, "", "", nullptr, ""}, {"capture.res.hdr", N, 0, 255, "", "", nullptr, ""}, {"capture.res.ver", N, 0, 255, "", "", nullptr, ""}, 
    {"cook_cnt", N, 0, 255, "", "", nullptr, ""}, {"cook_val", N, 0, 255, "", "", nullptr, ""}, {"cookie", N, 0, 255, "", "", nullptr, ""}, {"cpu_calls", N, 0, 255, "", "", nullptr, ""}, {"cpu_ns_avg", N, 0, 255, "", "", nullptr, ""},
    {"cpu_ns_tot", N, 0, 255, "", "", nullptr, ""}, {"cur_server_timeout", N, 0, 255, "", "", nullptr, ""}, {"cur_tunnel_timeout", N, 0, 255, "", "", nullptr, ""}, {"date", N, 0, 255, "", "", nullptr, ""}, {"date_us", N, 0, 255, "", "", nullptr, ""},
    {"distcc_body", N, 0, 255, "", "", nullptr, ""}, {"distcc_param", N, 0, 255, "", "", nullptr, ""}, {"dst_conn", N, 0, 255, "", "", nullptr, ""}, {"dst_is_local", N, 0, 255, "", "", nullptr, ""}, {"env", N, 0, 255, "", "", nullptr, ""},
    {"fc_dst", N, 0, 255, "", "", nullptr, ""}, {"fc_dst_is_local", N, 0, 255, "", "", nullptr, ""}, {"fc_dst_port", N, 0, 255, "", "", nullptr, ""}, {"fc_err", N, 0, 255, "", "", nullptr, ""}, {"fc_err_str", N, 0, 255, "", "", nullptr, ""},
    {"fc_fackets", N, 0, 255, "", "", nullptr, ""}, {"fc_http_major", N, 0, 255, "", "", nullptr, ""}, {"fc_lost", N, 0, 255, "", "", nullptr, ""}, {"fc_pp_authority", N, 0, 255, "", "", nullptr, ""}, {"fc_pp_unique_id", N, 0, 255, "", "", nullptr, ""},
    {"fc_rcvd_proxy", N, 0, 255, "", "", nullptr, ""}, {"fc_reordering", N, 0, 255, "", "", nullptr, ""}, {"fc_retrans", N, 0, 255, "", "", nullptr, ""}, {"fc_rtt", N, 0, 255, "", "", nullptr, ""}, {"fc_rttvar", N, 0, 255, "", "", nullptr, ""},
    {"fc_sacked", N, 0, 255, "", "", nullptr, ""}, {"fc_src", N, 0, 255, "", "", nullptr, ""}, {"fc_src_is_local", N, 0, 255, "", "", nullptr, ""}, {"fc_src_port", N, 0, 255, "", "", nullptr, ""}, {"fc_unacked", N, 0, 255, "", "", nullptr, ""},
    {"fe_client_timeout", N, 0, 255, "", "", nullptr, ""}, {"fe_defbe", N, 0, 255, "", "", nullptr, ""}, {"fe_name", N, 0, 255, "", "", nullptr, ""}, {"fe_req_rate", N, 0, 255, "", "", nullptr, ""}, {"fe_sess_rate", N, 0, 255, "", "", nullptr, ""},
    {"hdr_ip", N, 0, 255, "", "", nullptr, ""}, {"hdr_val", N, 0, 255, "", "", nullptr, ""}, {"hostname", N, 0, 255, "", "", nullptr, ""},
    {"http_auth_bearer", N, 0, 255, "", "", nullptr, ""}, {"http_auth_pass", N, 0, 255, "", "", nullptr, ""}, {"http_auth_type", N, 0, 255, "", "", nullptr, ""},
    {"http_auth_user", N, 0, 255, "", "", nullptr, ""}, {"http_first_req", N, 0, 255, "", "", nullptr, ""}, {"int", N, 0, 255, "", "", nullptr, ""}, {"ipv4", N, 0, 255, "", "", nullptr, ""}, {"ipv6", N, 0, 255, "", "", nullptr, ""},
    {"last_rule_file", N, 0, 255, "", "", nullptr, ""}, {"last_rule_line", N, 0, 255, "", "", nullptr, ""}, {"lat_ns_avg", N, 0, 255, "", "", nullptr, ""}, {"lat_ns_tot", N, 0, 255, "", "", nullptr, ""}, {"meth", N, 0, 255, "", "", nullptr, ""},
    {"pathq", N, 0, 255, "", "", nullptr, ""}, {"payload", N, 0, 255, "", "", nullptr, ""}, {"payload_lv", N, 0, 255, "", "", nullptr, ""},
    {"prio_class", N, 0, 255, "", "", nullptr, ""}, {"prio_offset", N, 0, 255, "", "", nullptr, ""}, {"proc", N, 0, 255, "", "", nullptr, ""}, {"queue", N, 0, 255, "", "", nullptr, ""},
    {"rand", N, 0, 255, "", "", nullptr, ""}, {"rdp_cookie", N, 0, 255, "", "", nullptr, ""}, {"rdp_cookie_cnt", N, 0, 255, "", "", nullptr, ""}, {"rep_ssl_hello_type", N, 0, 255, "", "", nullptr, ""}, {"req.body", N, 0, 255, "", "", nullptr, ""},
    {"req.body_len", N, 0, 255, "", "", nullptr, ""}, {"req.body_param", N, 0, 255, "", "", nullptr, ""}, {"req.body_size", N, 0, 255, "", "", nullptr, ""}, {"req.cook_cnt", N, 0, 255, "", "", nullptr, ""},
    {"req.cook_val", N, 0, 255, "", "", nullptr, ""}, {"req.fhdr", N, 0, 255, "", "", nullptr, ""}, {"req.fhdr_cnt", N, 0, 255, "", "", nullptr, ""}, 
    {"req.hdr_ip", N, 0, 255, "", "", nullptr, ""}, {"req.hdr_names", N, 0, 255, "", "", nullptr, ""}, {"req.hdr_val", N, 0, 255, "", "", nullptr, ""}, {"req.hdrs", N, 0, 255, "", "", nullptr, ""}, {"req.hdrs_bin", N, 0, 255, "", "", nullptr, ""},
    {"req.len", N, 0, 255, "", "", nullptr, ""}, {"req.payload", N, 0, 255, "", "", nullptr, ""}, {"req.payload_lv", N, 0, 255, "", "", nullptr, ""}, {"req.proto_http", N, 0, 255, "", "", nullptr, ""}, {"req.rdp_cookie", N, 0, 255, "", "", nullptr, ""},
    {"req.rdp_cookie_cnt", N, 0, 255, "", "", nullptr, ""}, {"req.ssl_alpn", N, 0, 255, "", "", nullptr, ""}, {"req.ssl_ec_ext", N, 0, 255, "", "", nullptr, ""}, {"req.ssl_hello_type", N, 0, 255, "", "", nullptr, ""}, {"req.ssl_sni", N, 0, 255, "", "", nullptr, ""},
    {"req.ssl_st_ext", N, 0, 255, "", "", nullptr, ""}, {"req.ssl_ver", N, 0, 255, "", "", nullptr, ""}, {"req.ver", N, 0, 255, "", "", nullptr, ""}, {"req_len", N, 0, 255, "", "", nullptr, ""}, {"req_proto_http", N, 0, 255, "", "", nullptr, ""},
    {"req_ssl_hello_type", N, 0, 255, "", "", nullptr, ""}, {"req_ssl_sni", N, 0, 255, "", "", nullptr, ""}, {"req_ssl_ver", N, 0, 255, "", "", nullptr, ""}, {"req_ver", N, 0, 255, "", "", nullptr, ""}, {"res.body", N, 0, 255, "", "", nullptr, ""},
    {"res.body_len", N, 0, 255, "", "", nullptr, ""}, {"res.body_size", N, 0, 255, "", "", nullptr, ""}, {"res.cache_hit", N, 0, 255, "", "", nullptr, ""}, {"res.cache_name", N, 0, 255, "", "", nullptr, ""}, {"res.comp", N, 0, 255, "", "", nullptr, ""},
    {"res.comp_algo", N, 0, 255, "", "", nullptr, ""}, {"res.cook_cnt", N, 0, 255, "", "", nullptr, ""}, {"res.cook_val", N, 0, 255, "", "", nullptr, ""}, {"res.fhdr", N, 0, 255, "", "", nullptr, ""},
    {"res.fhdr_cnt", N, 0, 255, "", "", nullptr, ""}, {"res.hdr_ip", N, 0, 255, "", "", nullptr, ""}, {"res.hdr_names", N, 0, 255, "", "", nullptr, ""},
    {"res.hdr_val", N, 0, 255, "", "", nullptr, ""}, {"res.hdrs", N, 0, 255, "", "", nullptr, ""}, {"res.hdrs_bin", N, 0, 255, "", "", nullptr, ""}, {"res.len", N, 0, 255, "", "", nullptr, ""}, {"res.payload", N, 0, 255, "", "", nullptr, ""},
    {"res.payload_lv", N, 0, 255, "", "", nullptr, ""}, {"res.ssl_hello_type", N, 0, 255, "", "", nullptr, ""}, {"res.ver", N, 0, 255, "", "", nullptr, ""}, {"resp_ver", N, 0, 255, "", "", nullptr, ""}, {"sc0_bytes_in_rate", N, 0, 255, "", "", nullptr, ""},
    {"sc0_bytes_out_rate", N, 0, 255, "", "", nullptr, ""}, {"sc0_clr_gpc0", N, 0, 255, "", "", nullptr, ""}, {"sc0_clr_gpc1", N, 0, 255, "", "", nullptr, ""}, {"sc0_conn_cnt", N, 0, 255, "", "", nullptr, ""}, {"sc0_conn_cur", N, 0, 255, "", "", nullptr, ""},
    {"sc0_conn_rate", N, 0, 255, "", "", nullptr, ""}, {"sc0_get_gpc0", N, 0, 255, "", "", nullptr, ""}, {"sc0_get_gpc1", N, 0, 255, "", "", nullptr, ""}, {"sc0_get_gpt0", N, 0, 255, "", "", nullptr, ""}, {"sc0_gpc0_rate", N, 0, 255, "", "", nullptr, ""},
    {"sc0_gpc1_rate", N, 0, 255, "", "", nullptr, ""}, {"sc0_http_err_cnt", N, 0, 255, "", "", nullptr, ""}, {"sc0_http_err_rate", N, 0, 255, "", "", nullptr, ""}, {"sc0_http_fail_cnt", N, 0, 255, "", "", nullptr, ""}, {"sc0_http_fail_rate", N, 0, 255, "", "", nullptr, ""},
    {"sc0_http_req_cnt", N, 0, 255, "", "", nullptr, ""}, {"sc0_http_req_rate", N, 0, 255, "", "", nullptr, ""}, {"sc0_inc_gpc0", N, 0, 255, "", "", nullptr, ""}, {"sc0_inc_gpc1", N, 0, 255, "", "", nullptr, ""}, {"sc0_kbytes_in", N, 0, 255, "", "", nullptr, ""},
    {"sc0_kbytes_out", N, 0, 255, "", "", nullptr, ""}, {"sc0_sess_cnt", N, 0, 255, "", "", nullptr, ""}, {"sc0_sess_rate", N, 0, 255, "", "", nullptr, ""}, {"sc0_tracked", N, 0, 255, "", "", nullptr, ""}, {"sc0_trackers", N, 0, 255, "", "", nullptr, ""},
    {"sc1_bytes_in_rate", N, 0, 255, "", "", nullptr, ""}, {"sc1_bytes_out_rate", N, 0, 255, "", "", nullptr, ""}, {"sc1_clr_gpc0", N, 0, 255, "", "", nullptr, ""}, {"sc1_clr_gpc1", N, 0, 255, "", "", nullptr, ""}, {"sc1_conn_cnt", N, 0, 255, "", "", nullptr, ""},
    {"sc1_conn_cur", N, 0, 255, "", "", nullptr, ""}, {"sc1_conn_rate", N, 0, 255, "", "", nullptr, ""}, {"sc1_get_gpc0", N, 0, 255, "", "", nullptr, ""}, {"sc1_get_gpc1", N, 0, 255, "", "", nullptr, ""}, {"sc1_get_gpt0", N, 0, 255, "", "", nullptr, ""},
    {"sc1_gpc0_rate", N, 0, 255, "", "", nullptr, ""}, {"sc1_gpc1_rate", N, 0, 255, "", "", nullptr, ""}, {"sc1_http_err_cnt", N, 0, 255, "", "", nullptr, ""}, {"sc1_http_err_rate", N, 0, 255, "", "", nullptr, ""}, {"sc1_http_fail_cnt", N, 0, 255, "", "", nullptr, ""},
    {"sc1_http_fail_rate", N, 0, 255, "", "", nullptr, ""}, {"sc1_http_req_cnt", N, 0, 255, "", "", nullptr, ""}, {"sc1_http_req_rate", N, 0, 255, "", "", nullptr, ""}, {"sc1_inc_gpc0", N, 0, 255, "", "", nullptr, ""}, {"sc1_inc_gpc1", N, 0, 255, "", "", nullptr, ""},
    {"sc1_kbytes_in", N, 0, 255, "", "", nullptr, ""}, {"sc1_kbytes_out", N, 0, 255, "", "", nullptr, ""}, {"sc1_sess_cnt", N, 0, 255, "", "", nullptr, ""}, {"sc1_sess_rate", N, 0, 255, "", "", nullptr, ""}, {"sc1_tracked", N, 0, 255, "", "", nullptr, ""},
    {"sc1_trackers", N, 0, 255, "", "", nullptr, ""}, {"sc2_bytes_in_rate", N, 0, 255, "", "", nullptr, ""}, {"sc2_bytes_out_rate", N, 0, 255, "", "", nullptr, ""}, {"sc2_clr_gpc0", N, 0, 255, "", "", nullptr, ""}, {"sc2_clr_gpc1", N, 0, 255, "", "", nullptr, ""},
    {"sc2_conn_cnt", N, 0, 255, "", "", nullptr, ""}, {"sc2_conn_cur", N, 0, 255, "", "", nullptr, ""}, {"sc2_conn_rate", N, 0, 255, "", "", nullptr, ""}, {"sc2_get_gpc0", N, 0, 255, "", "", nullptr, ""}, {"sc2_get_gpc1", N, 0, 255, "", "", nullptr, ""},
    {"sc2_get_gpt0", N, 0, 255, "", "", nullptr, ""}, {"sc2_gpc0_rate", N, 0, 255, "", "", nullptr, ""}, {"sc2_gpc1_rate", N, 0, 255, "", "", nullptr, ""}, {"sc2_http_err_cnt", N, 0, 255, "", "", nullptr, ""}, {"sc2_http_err_rate", N, 0, 255, "", "", nullptr, ""},
    {"sc2_http_fail_cnt", N, 0, 255, "", "", nullptr, ""}, {"sc2_http_fail_rate", N, 0, 255, "", "", nullptr, ""}, {"sc2_http_req_cnt", N, 0, 255, "", "", nullptr, ""}, {"sc2_http_req_rate", N, 0, 255, "", "", nullptr, ""}, {"sc2_inc_gpc0", N, 0, 255, "", "", nullptr, ""},
    {"sc2_inc_gpc1", N, 0, 255, "", "", nullptr, ""}, {"sc2_kbytes_in", N, 0, 255, "", "", nullptr, ""}, {"sc2_kbytes_out", N, 0, 255, "", "", nullptr, ""}, {"sc2_sess_cnt", N, 0, 255, "", "", nullptr, ""}, {"sc2_sess_rate", N, 0, 255, "", "", nullptr, ""},
    {"sc2_tracked", N, 0, 255, "", "", nullptr, ""}, {"sc2_trackers", N, 0, 255, "", "", nullptr, ""}, {"sc_bytes_in_rate", N, 0, 255, "", "", nullptr, ""}, {"sc_bytes_out_rate", N, 0, 255, "", "", nullptr, ""}, {"sc_clr_gpc", N, 0, 255, "", "", nullptr, ""},
    {"sc_clr_gpc0", N, 0, 255, "", "", nullptr, ""}, {"sc_clr_gpc1", N, 0, 255, "", "", nullptr, ""}, {"sc_conn_cnt", N, 0, 255, "", "", nullptr, ""}, {"sc_conn_cur", N, 0, 255, "", "", nullptr, ""}, {"sc_conn_rate", N, 0, 255, "", "", nullptr, ""},
    {"sc_get_gpc", N, 0, 255, "", "", nullptr, ""}, {"sc_get_gpc0", N, 0, 255, "", "", nullptr, ""}, {"sc_get_gpc1", N, 0, 255, "", "", nullptr, ""}, {"sc_get_gpt", N, 0, 255, "", "", nullptr, ""}, {"sc_get_gpt0", N, 0, 255, "", "", nullptr, ""},
    {"sc_gpc0_rate", N, 0, 255, "", "", nullptr, ""}, {"sc_gpc1_rate", N, 0, 255, "", "", nullptr, ""}, {"sc_gpc_rate", N, 0, 255, "", "", nullptr, ""}, {"sc_http_err_cnt", N, 0, 255, "", "", nullptr, ""}, {"sc_http_err_rate", N, 0, 255, "", "", nullptr, ""},
    {"sc_http_fail_cnt", N, 0, 255, "", "", nullptr, ""}, {"sc_http_fail_rate", N, 0, 255, "", "", nullptr, ""}, {"sc_http_req_cnt", N, 0, 255, "", "", nullptr, ""}, {"sc_http_req_rate", N, 0, 255, "", "", nullptr, ""}, {"sc_inc_gpc", N, 0, 255, "", "", nullptr, ""},
    {"sc_inc_gpc0", N, 0, 255, "", "", nullptr, ""}, {"sc_inc_gpc1", N, 0, 255, "", "", nullptr, ""}, {"sc_kbytes_in", N, 0, 255, "", "", nullptr, ""}, {"sc_kbytes_out", N, 0, 255, "", "", nullptr, ""}, {"sc_sess_cnt", N, 0, 255, "", "", nullptr, ""},
    {"sc_sess_rate", N, 0, 255, "", "", nullptr, ""}, {"sc_tracked", N, 0, 255, "", "", nullptr, ""}, {"sc_trackers", N, 0, 255, "", "", nullptr, ""}, {"scook", N, 0, 255, "", "", nullptr, ""}, {"scook_cnt", N, 0, 255, "", "", nullptr, ""},
    {"scook_val", N, 0, 255, "", "", nullptr, ""}, {"shdr", N, 0, 255, "", "", nullptr, ""}, {"shdr_cnt", N, 0, 255, "", "", nullptr, ""}, {"shdr_ip", N, 0, 255, "", "", nullptr, ""}, {"shdr_val", N, 0, 255, "", "", nullptr, ""},
    {"so_name", N, 0, 255, "", "", nullptr, ""}, {"src_bytes_in_rate", N, 0, 255, "", "", nullptr, ""}, {"src_bytes_out_rate", N, 0, 255, "", "", nullptr, ""}, {"src_clr_gpc", N, 0, 255, "", "", nullptr, ""}, {"src_clr_gpc0", N, 0, 255, "", "", nullptr, ""},
    {"src_clr_gpc1", N, 0, 255, "", "", nullptr, ""}, {"src_conn_cnt", N, 0, 255, "", "", nullptr, ""}, {"src_conn_cur", N, 0, 255, "", "", nullptr, ""}, {"src_conn_rate", N, 0, 255, "", "", nullptr, ""}, {"src_get_gpc", N, 0, 255, "", "", nullptr, ""},
    {"src_get_gpc0", N, 0, 255, "", "", nullptr, ""}, {"src_get_gpc1", N, 0, 255, "", "", nullptr, ""}, {"src_get_gpt", N, 0, 255, "", "", nullptr, ""}, {"src_get_gpt0", N, 0, 255, "", "", nullptr, ""}, {"src_gpc0_rate", N, 0, 255, "", "", nullptr, ""},
    {"src_gpc1_rate", N, 0, 255, "", "", nullptr, ""}, {"src_gpc_rate", N, 0, 255, "", "", nullptr, ""}, {"src_http_err_cnt", N, 0, 255, "", "", nullptr, ""}, {"src_http_err_rate", N, 0, 255, "", "", nullptr, ""}, {"src_http_fail_cnt", N, 0, 255, "", "", nullptr, ""},
    {"src_http_fail_rate", N, 0, 255, "", "", nullptr, ""}, {"src_http_req_cnt", N, 0, 255, "", "", nullptr, ""}, {"src_http_req_rate", N, 0, 255, "", "", nullptr, ""}, {"src_inc_gpc", N, 0, 255, "", "", nullptr, ""}, {"src_inc_gpc0", N, 0, 255, "", "", nullptr, ""},
    {"src_inc_gpc1", N, 0, 255, "", "", nullptr, ""}, {"src_is_local", N, 0, 255, "", "", nullptr, ""}, {"src_kbytes_in", N, 0, 255, "", "", nullptr, ""}, {"src_kbytes_out", N, 0, 255, "", "", nullptr, ""}, {"src_sess_cnt", N, 0, 255, "", "", nullptr, ""},
    {"src_sess_rate", N, 0, 255, "", "", nullptr, ""}, {"src_updt_conn_cnt", N, 0, 255, "", "", nullptr, ""}, {"srv_conn_free", N, 0, 255, "", "", nullptr, ""}, {"srv_id", N, 0, 255, "", "", nullptr, ""}, {"srv_iweight", N, 0, 255, "", "", nullptr, ""},
    {"srv_name", N, 0, 255, "", "", nullptr, ""}, {"srv_queue", N, 0, 255, "", "", nullptr, ""}, {"srv_sess_rate", N, 0, 255, "", "", nullptr, ""}, {"srv_uweight", N, 0, 255, "", "", nullptr, ""}, {"srv_weight", N, 0, 255, "", "", nullptr, ""},
    {"ssl_bc", N, 0, 255, "", "", nullptr, ""}, {"ssl_bc_alg_keysize", N, 0, 255, "", "", nullptr, ""}, {"ssl_bc_alpn", N, 0, 255, "", "", nullptr, ""}, {"ssl_bc_cipher", N, 0, 255, "", "", nullptr, ""}, {"ssl_bc_client_random", N, 0, 255, "", "", nullptr, ""},
    {"ssl_bc_err", N, 0, 255, "", "", nullptr, ""}, {"ssl_bc_err_str", N, 0, 255, "", "", nullptr, ""}, {"ssl_bc_is_resumed", N, 0, 255, "", "", nullptr, ""}, {"ssl_bc_npn", N, 0, 255, "", "", nullptr, ""}, {"ssl_bc_protocol", N, 0, 255, "", "", nullptr, ""},
    {"ssl_bc_server_random", N, 0, 255, "", "", nullptr, ""}, {"ssl_bc_session_id", N, 0, 255, "", "", nullptr, ""}, {"ssl_bc_session_key", N, 0, 255, "", "", nullptr, ""}, {"ssl_bc_unique_id", N, 0, 255, "", "", nullptr, ""}, {"ssl_bc_use_keysize", N, 0, 255, "", "", nullptr, ""},
    {"ssl_c_ca_err", N, 0, 255, "", "", nullptr, ""}, {"ssl_c_ca_err_depth", N, 0, 255, "", "", nullptr, ""}, {"ssl_c_chain_der", N, 0, 255, "", "", nullptr, ""}, {"ssl_c_der", N, 0, 255, "", "", nullptr, ""}, {"ssl_c_err", N, 0, 255, "", "", nullptr, ""},
    {"ssl_c_i_dn", N, 0, 255, "", "", nullptr, ""}, {"ssl_c_key_alg", N, 0, 255, "", "", nullptr, ""}, {"ssl_c_notafter", N, 0, 255, "", "", nullptr, ""}, {"ssl_c_notbefore", N, 0, 255, "", "", nullptr, ""}, {"ssl_c_s_dn", N, 0, 255, "", "", nullptr, ""},
    {"ssl_c_serial", N, 0, 255, "", "", nullptr, ""}, {"ssl_c_sha1", N, 0, 255, "", "", nullptr, ""}, {"ssl_c_sig_alg", N, 0, 255, "", "", nullptr, ""}, {"ssl_c_used", N, 0, 255, "", "", nullptr, ""}, {"ssl_c_verify", N, 0, 255, "", "", nullptr, ""},
    {"ssl_c_version", N, 0, 255, "", "", nullptr, ""}, {"ssl_f_der", N, 0, 255, "", "", nullptr, ""}, {"ssl_f_i_dn", N, 0, 255, "", "", nullptr, ""}, {"ssl_f_key_alg", N, 0, 255, "", "", nullptr, ""}, {"ssl_f_notafter", N, 0, 255, "", "", nullptr, ""},
    {"ssl_f_notbefore", N, 0, 255, "", "", nullptr, ""}, {"ssl_f_s_dn", N, 0, 255, "", "", nullptr, ""}, {"ssl_f_serial", N, 0, 255, "", "", nullptr, ""}, {"ssl_f_sha1", N, 0, 255, "", "", nullptr, ""}, {"ssl_f_sig_alg", N, 0, 255, "", "", nullptr, ""},
    {"ssl_f_version", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_alg_keysize", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_alpn", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_cipher", N, 0, 255, "", "", nullptr, ""},
    {"ssl_fc_cipherlist_bin", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_cipherlist_hex", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_cipherlist_str", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_cipherlist_xxh", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_client_early_traffic_secret", N, 0, 255, "", "", nullptr, ""},
    {"ssl_fc_client_handshake_traffic_secret", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_client_random", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_client_traffic_secret_0", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_early_exporter_secret", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_ecformats_bin", N, 0, 255, "", "", nullptr, ""},
    {"ssl_fc_eclist_bin", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_err", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_err_str", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_exporter_secret", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_extlist_bin", N, 0, 255, "", "", nullptr, ""},
    {"ssl_fc_has_crt", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_has_early", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_has_sni", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_is_resumed", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_npn", N, 0, 255, "", "", nullptr, ""},
    {"ssl_fc_protocol", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_protocol_hello_id", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_server_handshake_traffic_secret", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_server_random", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_server_traffic_secret_0", N, 0, 255, "", "", nullptr, ""},
    {"ssl_fc_session_id", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_session_key", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_sni", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_unique_id", N, 0, 255, "", "", nullptr, ""}, {"ssl_fc_use_keysize", N, 0, 255, "", "", nullptr, ""},
    {"ssl_s_chain_der", N, 0, 255, "", "", nullptr, ""}, {"ssl_s_der", N, 0, 255, "", "", nullptr, ""}, {"ssl_s_i_dn", N, 0, 255, "", "", nullptr, ""}, {"ssl_s_key_alg", N, 0, 255, "", "", nullptr, ""}, {"ssl_s_notafter", N, 0, 255, "", "", nullptr, ""},
    {"ssl_s_notbefore", N, 0, 255, "", "", nullptr, ""}, {"ssl_s_s_dn", N, 0, 255, "", "", nullptr, ""}, {"ssl_s_serial", N, 0, 255, "", "", nullptr, ""}, {"ssl_s_sha1", N, 0, 255, "", "", nullptr, ""}, {"ssl_s_sig_alg", N, 0, 255, "", "", nullptr, ""},
    {"ssl_s_version", N, 0, 255, "", "", nullptr, ""}, {"stopping", N, 0, 255, "", "", nullptr, ""}, {"str", N, 0, 255, "", "", nullptr, ""}, {"table_avl", N, 0, 255, "", "", nullptr, ""},
    {"table_cnt", N, 0, 255, "", "", nullptr, ""}, {"thread", N, 0, 255, "", "", nullptr, ""}, {"url32", N, 0, 255, "", "", nullptr, ""}, {"url_ip", N, 0, 255, "", "", nullptr, ""},
    {"url_port", N, 0, 255, "", "", nullptr, ""}, {"urlp_val", N, 0, 255, "", "", nullptr, ""}, {"uuid", N, 0, 255, "", "", nullptr, ""},
    {"var", N, 0, 255, "", "", nullptr, ""}, {"wait_end", N, 0, 255, "", "", nullptr, ""},
};
// clang-format on

constexpr std::string_view kMatchers[] = {"found", "bool", "int", "ip",  "bin", "len", "str",
                                          "sub",   "reg",  "beg", "end", "dir", "dom"};
// Suffixes of the short forms, e.g. hdr_end = hdr with -m end.
constexpr std::string_view kDerivedSuffixes[] = {"beg", "end", "sub", "reg", "dir", "dom", "len"};

struct FetchRef {
  const FetchKeyword* fetch = nullptr;
  std::string implied_matcher;
};

FetchRef find_fetch(std::string_view name) {
  if (const FetchKeyword* f = find_keyword(fetch_keywords(), name)) return {f, std::string(f->matcher)};
  std::size_t us = name.rfind('_');
  if (us != std::string_view::npos) {
    std::string_view suffix = name.substr(us + 1);
    for (std::string_view s : kDerivedSuffixes) {
      if (s != suffix) continue;
      if (const FetchKeyword* f = find_keyword(fetch_keywords(), name.substr(0, us)))
        return {f, std::string(s)};
    }
  }
  return {};
}

// Splits "name(a,b)" into name and args. Converters (",conv") are not implemented yet.
Result<void> split_criterion(const std::string& w, std::string& name, std::vector<std::string>& args) {
  std::size_t paren = w.find('(');
  std::size_t comma = w.find(',');
  if (comma != std::string::npos && (paren == std::string::npos || comma < paren))
    return make_error("converters (" + quote(w.substr(comma)) + ") are not implemented yet in Sluice");
  if (paren == std::string::npos) {
    name = w;
    return {};
  }
  name = w.substr(0, paren);
  std::size_t close = w.find(')', paren);
  if (close == std::string::npos) return make_error("missing ')' in " + quote(w));
  std::string inner = w.substr(paren + 1, close - paren - 1);
  std::size_t start = 0;
  while (start <= inner.size()) {
    std::size_t c = inner.find(',', start);
    if (c == std::string::npos) c = inner.size();
    args.push_back(inner.substr(start, c - start));
    start = c + 1;
  }
  if (inner.empty()) args.clear();
  if (close + 1 < w.size()) {
    if (w[close + 1] == ',')
      return make_error("converters (" + quote(w.substr(close + 1)) +
                        ") are not implemented yet in Sluice");
    return make_error("unexpected " + quote(w.substr(close + 1)) + " after " + quote(w.substr(0, close + 1)));
  }
  return {};
}

bool valid_ip_pattern(const std::string& pat) {
  std::string addr = pat;
  std::string mask;
  if (std::size_t slash = pat.find('/'); slash != std::string::npos) {
    addr = pat.substr(0, slash);
    mask = pat.substr(slash + 1);
  }
  in_addr a4{};
  in6_addr a6{};
  if (inet_pton(AF_INET, addr.c_str(), &a4) == 1) {
    if (mask.empty()) return pat.find('/') == std::string::npos;
    if (parse_uint(mask, 0, 32)) return true;
    in_addr m{};
    return inet_pton(AF_INET, mask.c_str(), &m) == 1;
  }
  if (inet_pton(AF_INET6, addr.c_str(), &a6) == 1) {
    if (mask.empty()) return pat.find('/') == std::string::npos;
    return static_cast<bool>(parse_uint(mask, 0, 128));
  }
  return false;
}

bool valid_int_pattern(const std::string& pat) {
  if (pat.empty()) return false;
  std::size_t colon = pat.find(':');
  if (colon == std::string::npos) return static_cast<bool>(parse_uint(pat));
  std::string lo = pat.substr(0, colon), hi = pat.substr(colon + 1);
  if (lo.empty() && hi.empty()) return false;
  return (lo.empty() || parse_uint(lo)) && (hi.empty() || parse_uint(hi));
}

// Parses "FETCH[(ARGS)] [FLAGS] [OPERATOR] [PATTERNS...]".
Result<AclDef> parse_acl_body(Parser& p, const std::vector<std::string>& w) {
  AclDef d;
  d.loc = p.loc();
  if (w.empty()) return make_error("missing sample fetch (e.g. 'src')");
  if (auto r = split_criterion(w[0], d.fetch, d.fetch_args); !r) return Error{r.error()};
  FetchRef ref = find_fetch(d.fetch);
  if (!ref.fetch) {
    std::vector<std::string_view> names;
    for (const auto& f : fetch_keywords()) names.push_back(f.name);
    return make_error("unknown sample fetch " + quote(d.fetch) + did_you_mean(d.fetch, names));
  }
  // A fetch not implemented yet is reported once; the ACL is still recorded so
  // conditions naming it do not cascade into "unknown ACL" errors.
  bool not_yet = ref.fetch->status == KwStatus::NotYet;
  if (not_yet)
    p.error(d.fetch, "sample fetch " + quote(d.fetch) + " is not implemented yet in Sluice");
  const FetchKeyword& f = *ref.fetch;
  if (!not_yet && (d.fetch_args.size() < f.min_args || d.fetch_args.size() > f.max_args)) {
    std::string shape = f.args.empty() ? std::string("no argument") : quote(f.args);
    return make_error("sample fetch " + quote(d.fetch) + " expects " + shape + ", got " +
                      std::to_string(d.fetch_args.size()) + " argument(s)");
  }
  if (f.check && !not_yet)
    if (auto r = f.check(d.fetch_args); !r) return Error{r.error()};
  d.matcher = ref.implied_matcher;
  std::size_t i = 1;
  while (i < w.size() && !w[i].empty() && w[i][0] == '-') {
    const std::string& flag = w[i];
    if (flag == "--") {
      ++i;
      break;
    }
    if (flag == "-i") {
      d.ignore_case = true;
    } else if (flag == "-n") {
      d.no_dns = true;
    } else if (flag == "-f" || flag == "-m") {
      if (i + 1 >= w.size()) return make_error(quote(flag) + " expects an argument");
      const std::string& v = w[i + 1];
      if (flag == "-f") {
        // Checked, not read: the ACL area loads patterns (access() never blocks on a FIFO).
        if (access(v.c_str(), R_OK) != 0) return make_error("cannot open pattern file " + quote(v));
        d.pattern_files.push_back(v);
      } else {
        bool known = false;
        for (std::string_view m : kMatchers) known = known || m == v;
        if (!known)
          return make_error("unknown match method " + quote(v) +
                            did_you_mean(v, {std::begin(kMatchers), std::end(kMatchers)}));
        d.matcher = v;
      }
      ++i;
    } else if (flag == "-u" || flag == "-M") {
      return make_error("ACL flag " + quote(flag) + " is not implemented yet in Sluice");
    } else {
      return make_error("unknown ACL flag " + quote(flag) + " (expected -i, -f, -m, -n or --)");
    }
    ++i;
  }
  for (; i < w.size(); ++i) d.patterns.push_back(w[i]);
  if (not_yet) return d;

  // Validate what can be validated now.
  if (d.matcher == "bool" || d.matcher == "found") {
    if (!d.patterns.empty())  // HAProxy accepts and ignores them
      p.warn("acl", "match method " + quote(d.matcher) + " ignores its patterns (" +
                        quote(d.patterns[0]) + "...)");
  } else if (d.matcher == "int") {
    std::size_t k = 0;
    if (!d.patterns.empty()) {
      const std::string& op = d.patterns[0];
      if (op == "eq" || op == "ge" || op == "gt" || op == "le" || op == "lt") {
        if (d.patterns.size() < 2) return make_error("operator " + quote(op) + " expects a number");
        k = 1;
      }
    }
    for (; k < d.patterns.size(); ++k)
      if (!valid_int_pattern(d.patterns[k]))
        return make_error("expected an integer or a range like 1024:65535, got " + quote(d.patterns[k]));
  } else if (d.matcher == "ip") {
    for (const auto& pat : d.patterns)
      if (!valid_ip_pattern(pat))
        return make_error("expected an address like 10.0.0.0/8, got " + quote(pat));
  } else if (d.matcher == "len") {
    for (const auto& pat : d.patterns)
      if (!valid_int_pattern(pat)) return make_error("expected a length, got " + quote(pat));
  }
  if (d.patterns.empty() && d.pattern_files.empty() && d.matcher != "bool" && d.matcher != "found")
    return make_error("missing pattern after " + quote(w[0]));
  return d;
}

struct Predefined {
  std::string_view name;
  std::string_view fetch;
  std::string_view pattern;
};
constexpr Predefined kPredefined[] = {
    {"TRUE", "always_true", ""}, {"FALSE", "always_false", ""}, {"LOCALHOST", "src", "127.0.0.1/8"}};
constexpr std::string_view kPredefinedNotYet[] = {
    "HTTP", "HTTP_1.0", "HTTP_1.1", "HTTP_2.0", "HTTP_CONTENT", "HTTP_URL_ABS", "HTTP_URL_SLASH",
    "HTTP_URL_STAR", "METH_CONNECT", "METH_DELETE", "METH_GET", "METH_HEAD", "METH_OPTIONS",
    "METH_POST", "METH_PUT", "METH_TRACE", "RDP_COOKIE", "REQ_CONTENT", "WAIT_END"};

Result<std::size_t> find_named_acl(Proxy& px, const std::string& name) {
  for (std::size_t i = 0; i < px.acls.size(); ++i)
    if (px.acls[i].name == name) return i;
  for (const auto& pre : kPredefined) {
    if (pre.name != name) continue;
    AclDef d;
    d.name = name;
    d.fetch = std::string(pre.fetch);
    d.matcher = pre.fetch == "src" ? "ip" : "bool";
    if (!pre.pattern.empty()) d.patterns.emplace_back(pre.pattern);
    px.acls.push_back(NamedAcl{name, {d}});
    return px.acls.size() - 1;
  }
  for (std::string_view n : kPredefinedNotYet)
    if (n == name) return make_error("predefined ACL " + quote(name) + " is not implemented yet in Sluice");
  std::vector<std::string_view> names;
  for (const auto& a : px.acls) names.push_back(a.name);
  for (const auto& pre : kPredefined) names.push_back(pre.name);
  return make_error("unknown ACL " + quote(name) + did_you_mean(name, names));
}

}  // namespace

std::span<const FetchKeyword> fetch_keywords() { return kFetchKeywords; }

Result<Condition> parse_condition(Parser& p, Args args) {
  Condition c;
  c.loc = p.loc();
  if (args.empty()) return make_error("expected 'if' or 'unless'");
  if (args[0] != "if" && args[0] != "unless")
    return make_error("expected 'if' or 'unless', got " + quote(args[0]));
  c.unless = args[0] == "unless";
  Proxy& px = p.proxy();
  c.any_of.emplace_back();
  bool negate = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string w = args[i];
    if (w == "||" || w == "or") {
      if (c.any_of.back().empty() || negate)
        return make_error("missing ACL before " + quote(w));
      c.any_of.emplace_back();
      continue;
    }
    if (w == "!") {
      negate = !negate;
      continue;
    }
    while (!w.empty() && w[0] == '!') {
      negate = !negate;
      w.erase(0, 1);
    }
    CondTerm t;
    t.negate = negate;
    negate = false;
    if (w == "{") {
      std::vector<std::string> inner;
      std::size_t j = i + 1;
      while (j < args.size() && args[j] != "}") inner.push_back(args[j++]);
      if (j >= args.size()) return make_error("missing '}' to close the anonymous ACL");
      if (inner.empty()) return make_error("empty anonymous ACL '{ }'");
      auto d = parse_acl_body(p, inner);
      if (!d) return Error{d.error()};
      px.anonymous_acls.push_back(std::move(*d));
      t.anonymous = true;
      t.index = px.anonymous_acls.size() - 1;
      t.name = "{ " + inner[0] + " ... }";
      i = j;
    } else if (w == "}") {
      return make_error("unexpected '}' without '{'");
    } else if (w.empty()) {
      return make_error("missing ACL name after '!'");
    } else {
      auto idx = find_named_acl(px, w);
      if (!idx) return Error{idx.error()};
      t.index = *idx;
      t.name = w;
    }
    c.any_of.back().push_back(std::move(t));
  }
  if (negate) return make_error("missing ACL name after '!'");
  if (c.any_of.back().empty()) {
    if (c.any_of.size() == 1) return make_error("missing condition after " + quote(args[0]));
    return make_error("missing ACL after the last '||'");
  }
  return c;
}

namespace kw {

Result<void> acl(Parser& p, const Stmt& st) {
  if (st.args.size() < 2) return make_error("'acl' expects a name and a criterion (e.g. acl local src 127.0.0.1)");
  const std::string& name = st.args[0];
  for (char ch : name) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.' || ch == ':';
    if (!ok) return make_error("invalid ACL name " + quote(name));
  }
  std::vector<std::string> body;
  for (std::size_t i = 1; i < st.args.size(); ++i) body.push_back(st.args[i]);
  auto d = parse_acl_body(p, body);
  if (!d) return Error{d.error()};
  d->name = name;
  Proxy& px = p.proxy();
  for (auto& a : px.acls) {
    if (a.name == name) {
      a.defs.push_back(std::move(*d));
      return {};
    }
  }
  px.acls.push_back(NamedAcl{name, {std::move(*d)}});
  return {};
}

Result<void> use_backend(Parser& p, const Stmt& st) {
  if (st.args.empty()) return make_error("'use_backend' expects a backend name");
  UseBackend ub;
  ub.backend = st.args[0];
  ub.loc = p.loc();
  if (st.args.size() > 1) {
    auto c = parse_condition(p, st.args.from(1));
    if (!c) return Error{c.error()};
    ub.cond = std::move(*c);
  }
  p.proxy().use_backends.push_back(std::move(ub));
  return {};
}

}  // namespace kw
}  // namespace sluice::config
