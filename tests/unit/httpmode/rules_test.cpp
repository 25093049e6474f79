// Rule evaluation over a parsed request/response head: edits and what later
// rules see, stopping actions and their replies, response rules, captures.
#include "httpmode/rules.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "config/load.h"

namespace sluice::httpmode {
namespace {

// Samples over the message being edited (request or response side).
class MsgSource final : public acl::SampleSource {
 public:
  MsgSource(const EditableMessage& m, bool response) : m_(m), response_(response) {}
  std::optional<std::string_view> http_method() const override {
    if (response_) return {};
    return view().method();
  }
  std::optional<std::string_view> http_target() const override {
    if (response_) return {};
    return view().target();
  }
  bool http_req_field(std::string_view n, std::size_t i, std::string_view& out) const override {
    return !response_ && field(n, i, out);
  }
  std::optional<std::int64_t> http_status() const override {
    if (!response_) return {};
    return m_.parser->head().status;
  }
  bool http_res_field(std::string_view n, std::size_t i, std::string_view& out) const override {
    return response_ && field(n, i, out);
  }

 private:
  http::MessageView view() const { return m_.parser->view(std::string_view(m_.buf, *m_.len)); }
  bool field(std::string_view n, std::size_t i, std::string_view& out) const {
    http::MessageView v = view();
    std::size_t at = 0;
    for (std::size_t k = 0;; ++k, ++at) {
      at = v.find(n, at);
      if (at == http::MessageView::npos) return false;
      if (k == i) {
        out = v.field(at).value;
        return true;
      }
    }
  }
  const EditableMessage& m_;
  bool response_;
};

struct Harness {
  config::Model model;
  std::unique_ptr<ProxyHttp> rules;
  char buf[4096];
  char scratch[4096];
  char reply[4096];
  std::size_t len = 0;
  http::HeadParser parser{http::Side::Request};
  http::HeadParser res_parser{http::Side::Response};

  explicit Harness(const std::string& rules_text) {
    config::LoadOptions o;
    o.resolve_hostnames = false;
    auto r = config::load_text(
        "defaults\n mode http\n timeout client 1s\n timeout connect 1s\n timeout server 1s\n"
        "frontend f\n bind :1\n default_backend b\n" +
            rules_text + "backend b\n server s 127.0.0.1:1\n",
        "t.cfg", o);
    EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].message);
    model = std::move(r.model);
    auto c = compile_proxy_http(model.proxies[0], model);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error());
    if (c.ok()) rules = std::move(*c);
  }

  Verdict run(std::string_view message, bool response = false) {
    std::memcpy(buf, message.data(), message.size());
    len = message.size();
    http::HeadParser& p = response ? res_parser : parser;
    p.reset();
    EXPECT_EQ(p.parse(std::string_view(buf, len)).state, http::ParseState::Done);
    EditableMessage m;
    m.buf = buf;
    m.len = &len;
    m.cap = sizeof buf;
    m.parser = &p;
    m.scratch = scratch;
    MsgSource src(m, response);
    log::LogContext ctx;
    return run_rules(response ? rules->response : rules->request, response, m, src, ctx, reply,
                     sizeof reply);
  }
  std::string text() const { return std::string(buf, len); }
  std::string reply_text(const Verdict& v) const { return std::string(reply, v.reply_len); }
};

constexpr std::string_view kGet =
    "GET /a/b?x=1 HTTP/1.1\r\nHost: Example.COM\r\nX-Secret: s\r\nX-List: a, b ,a\r\n"
    "User-Agent: curl/8.0\r\n\r\nBODY";

TEST(HttpRules, HeaderEditsApplyInOrderAndLaterRulesSeeThem) {
  Harness h(
      " http-request set-header X-Host %[req.hdr(host),lower]\n"
      " http-request del-header X-Secret\n"
      " http-request replace-value X-List ^a$ A\n"
      " http-request replace-header User-Agent ^(\\w+)/(.*)$ \\2-\\1\n"
      " http-request add-header X-Seen yes if { req.hdr(x-host) example.com }\n"
      " http-request add-header X-Never no if { req.hdr(x-secret) -m found }\n");
  Verdict v = h.run(kGet);
  EXPECT_EQ(v.kind, Verdict::Kind::Continue);
  EXPECT_EQ(h.text(),
            "GET /a/b?x=1 HTTP/1.1\r\nHost: Example.COM\r\nX-List: A, b ,A\r\n"
            "User-Agent: 8.0-curl\r\nX-Host: example.com\r\nX-Seen: yes\r\n\r\nBODY");
}

TEST(HttpRules, StartLineRewrites) {
  Harness h(
      " http-request set-path /new%[path] if { path_beg /a/ }\n"
      " http-request set-query y=2\n"
      " http-request set-method POST\n");
  h.run(kGet);
  EXPECT_EQ(h.text().substr(0, h.text().find("\r\n")), "POST /new/a/b?y=2 HTTP/1.1");
  Harness u(" http-request set-uri /only\n");
  u.run(kGet);
  EXPECT_EQ(u.text().substr(0, u.text().find("\r\n")), "GET /only HTTP/1.1");
}

TEST(HttpRules, FirstStoppingRuleWins) {
  Harness h(
      " http-request allow if { path_beg /ok }\n"
      " http-request deny deny_status 429 if { path_beg /ok }\n"
      " http-request deny if { path_beg /a }\n"
      " http-request tarpit\n");
  EXPECT_EQ(h.run("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n").kind, Verdict::Kind::Allow);
  Verdict d = h.run(kGet);
  EXPECT_EQ(d.kind, Verdict::Kind::Deny);
  EXPECT_EQ(d.status, 403);
  Verdict t = h.run("GET /z HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(t.kind, Verdict::Kind::Tarpit);
  EXPECT_EQ(t.status, 500);
}

TEST(HttpRules, RedirectsAsHaproxyWritesThem) {
  Harness h(
      " http-request redirect scheme https drop-query append-slash if { path_beg /a }\n"
      " http-request redirect prefix /v2 code 301 set-cookie S=1 if { path_beg /p }\n"
      " http-request redirect location /x code 303 clear-cookie T\n");
  Verdict v = h.run(kGet);
  ASSERT_EQ(v.kind, Verdict::Kind::Reply);
  EXPECT_EQ(h.reply_text(v),
            "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://Example.COM/a/b/\r\n"
            "cache-control: no-cache\r\n\r\n");
  v = h.run("GET /p/q?z HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(h.reply_text(v),
            "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /v2/p/q?z\r\n"
            "set-cookie: S=1; path=/;\r\n\r\n");
  v = h.run("GET /q HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(h.reply_text(v),
            "HTTP/1.1 303 See Other\r\ncontent-length: 0\r\nlocation: /x\r\n"
            "cache-control: no-cache\r\nset-cookie: T; path=/; Max-Age=0;\r\n\r\n");
}

TEST(HttpRules, ReturnBuildsTheResponse) {
  Harness h(
      " http-request return status 201 content-type text/plain lf-string \"p=%[path]\" hdr "
      "X-A %[method] if { path_beg /a }\n"
      " http-request return\n");
  Verdict v = h.run(kGet);
  ASSERT_EQ(v.kind, Verdict::Kind::Reply);
  EXPECT_EQ(v.status, 201);
  EXPECT_EQ(h.reply_text(v),
            "HTTP/1.1 201 Created\r\nX-A: GET\r\ncontent-length: 6\r\ncontent-type: "
            "text/plain\r\n\r\np=/a/b");
  v = h.run("GET /z HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(h.reply_text(v), "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
}

TEST(HttpRules, ResponseRulesSeeStatusAndResponseHeaders) {
  Harness h(
      " http-response set-header X-Count %[res.hdr_cnt(x-m)]\n"
      " http-response del-header X-Drop -m beg\n"
      " http-response set-header X-Cookie %[res.cook(sid)] if { status 200 }\n"
      " http-response deny if { res.hdr(x-bad) -m found }\n");
  Verdict v = h.run(
      "HTTP/1.1 200 OK\r\nX-M: a, b\r\nX-Dropped: 1\r\nSet-Cookie: sid=42; path=/\r\n"
      "Content-Length: 0\r\n\r\n",
      true);
  EXPECT_EQ(v.kind, Verdict::Kind::Continue);
  EXPECT_EQ(h.text(),
            "HTTP/1.1 200 OK\r\nX-M: a, b\r\nSet-Cookie: sid=42; path=/\r\nContent-Length: 0\r\n"
            "X-Count: 2\r\nX-Cookie: 42\r\n\r\n");
  v = h.run("HTTP/1.1 200 OK\r\nX-Bad: 1\r\nContent-Length: 0\r\n\r\n", true);
  EXPECT_EQ(v.kind, Verdict::Kind::Deny);
  EXPECT_EQ(v.status, 502);
}

TEST(HttpRules, RewriteThatDoesNotFitFails) {
  Harness h(" http-request set-header X-Big %[req.hdr(x-long)]%[req.hdr(x-long)]\n");
  std::string req = "GET / HTTP/1.1\r\nX-Long: " + std::string(2000, 'a') + "\r\n\r\n";
  EXPECT_EQ(h.run(req).kind, Verdict::Kind::RewriteFailed);
}

TEST(HttpRules, CapturesKeepTheLastOccurrenceCutAndEncoded) {
  std::vector<config::HeaderCapture> caps{{"X-Id", 4}, {"X-None", 3}, {"UA", 10}};
  const char* msg = "GET / HTTP/1.1\r\nX-Id: first\r\nUA: a|b{c}\r\nx-id: second\r\n\r\n";
  http::HeadParser p(http::Side::Request);
  ASSERT_EQ(p.parse(msg).state, http::ParseState::Done);
  char out[128];
  std::size_t n = format_captures(caps, p.view(msg), out, sizeof out);
  EXPECT_EQ(std::string(out, n), "{seco||a#7Cb#7Bc#7D}");
}

}  // namespace
}  // namespace sluice::httpmode
