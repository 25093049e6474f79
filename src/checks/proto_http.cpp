// `option httpchk` (all its legacy forms) and `http-check send|expect|
// disable-on-404`: one request, one response matcher.

#include <memory>

#include "checks/protocols.h"
#include "http/parser.h"

namespace sluice::checks {

namespace {

struct HttpRule {
  std::string match;  // status, rstatus, string, rstring
  bool negate = false;
  std::string pattern;
  std::unique_ptr<Regex> re;
};

// "200", "200-299", "200,302,400-410".
bool status_in(int code, std::string_view list) {
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    std::size_t dash = item.find('-');
    try {
      int lo = std::stoi(std::string(item.substr(0, dash)));
      int hi = dash == std::string_view::npos ? lo : std::stoi(std::string(item.substr(dash + 1)));
      if (code >= lo && code <= hi) return true;
    } catch (...) {
    }
  }
  return false;
}

class HttpMatcher final : public Matcher {
 public:
  HttpMatcher(std::vector<HttpRule> rules, bool disable_on_404, bool head_request)
      : rules_(std::move(rules)), disable_on_404_(disable_on_404), head_(head_request) {
    for (const auto& r : rules_)
      if (r.match == "string" || r.match == "rstring") need_body_ = true;
  }

  Verdict match(std::string_view in, bool eof) const override {
    http::HeadParser p(http::Side::Response);
    if (head_) p.set_request_method(http::Method::Head);
    http::HeadResult hr = p.parse(in);
    if (hr.state == http::ParseState::NeedMore) {
      if (!eof) return Verdict::need_more();
      return Verdict::fail(CheckStatus::L7Rsp, in.empty() ? "" : "Invalid HTTP response");
    }
    if (hr.state == http::ParseState::Error)
      return Verdict::fail(CheckStatus::L7Rsp, "Invalid HTTP response");
    const http::Head& h = p.head();
    int code = h.status;
    std::string reason(p.view(in).reason());
    std::string_view body = in.substr(hr.head_length);
    if (need_body_) {
      bool complete = eof || h.framing == http::Framing::None ||
                      (h.framing == http::Framing::ContentLength && body.size() >= h.content_length);
      if (!complete) return Verdict::need_more();
      if (h.framing == http::Framing::ContentLength && body.size() > h.content_length)
        body = body.substr(0, h.content_length);
    }
    if (disable_on_404_ && code == 404) return Verdict::pass(CheckStatus::L7OkC, reason, code);
    if (rules_.empty()) {
      // A plain pass carries no text: haproxy logs "code: 200" and no info.
      if (code >= 200 && code < 400) return Verdict::pass(CheckStatus::L7Ok, "", code);
      return Verdict::fail(CheckStatus::L7Sts, reason, code);
    }
    std::string code_text = std::to_string(code);
    for (const auto& r : rules_) {
      bool status_rule = r.match == "status" || r.match == "rstatus";
      bool hit;
      if (r.match == "status")
        hit = status_in(code, r.pattern);
      else if (r.match == "rstatus")
        hit = r.re->search(code_text);
      else if (r.match == "string")
        hit = body.find(r.pattern) != std::string_view::npos;
      else
        hit = r.re->search(body);
      if (hit == r.negate) {
        if (status_rule)
          return Verdict::fail(CheckStatus::L7Sts, "HTTP status check returned code <" +
                                                       code_text + ">", code);
        return Verdict::fail(CheckStatus::L7Rsp, std::string("HTTP content check ") +
                                                     (r.negate ? "found unwanted content" :
                                                                 "did not match") , code);
      }
    }
    return Verdict::pass(CheckStatus::L7Ok, "", code);
  }

 private:
  std::vector<HttpRule> rules_;
  bool disable_on_404_;
  bool head_;
  bool need_body_ = false;
};

}  // namespace

std::string compile_httpchk(const CompileInput& in, std::vector<CheckStep>& steps) {
  const auto& a = in.def.args;
  // option httpchk [[METHOD] URI [VERSION [HOST]]]
  std::string meth = "OPTIONS", uri = "/", ver = "HTTP/1.0";
  std::vector<std::pair<std::string, std::string>> hdrs;
  std::string body;
  if (a.size() == 1) {
    uri = a[0];
  } else if (a.size() >= 2) {
    meth = a[0];
    uri = a[1];
    if (a.size() >= 3) ver = a[2];
    if (a.size() >= 4) hdrs.emplace_back("Host", a[3]);
  }
  std::vector<HttpRule> rules;
  for (const auto& r : in.def.http_rules) {
    using K = config::CheckRule::Kind;
    if (r.kind == K::Send) {
      for (std::size_t i = 0; i + 1 < r.args.size();) {
        const std::string& k = r.args[i];
        if (k == "hdr" && i + 2 < r.args.size()) {
          hdrs.emplace_back(r.args[i + 1], r.args[i + 2]);
          i += 3;
          continue;
        }
        if (k == "meth") meth = r.args[i + 1];
        else if (k == "uri") uri = r.args[i + 1];
        else if (k == "ver") ver = r.args[i + 1];
        else if (k == "body") body = r.args[i + 1];
        i += 2;
      }
    } else if (r.kind == K::Expect) {
      HttpRule hr;
      hr.match = r.match;
      hr.negate = r.negate;
      hr.pattern = r.pattern;
      if (r.match == "rstatus" || r.match == "rstring") {
        std::string err;
        hr.re = Regex::compile(r.pattern, err);
        if (!hr.re) return err;
      }
      rules.push_back(std::move(hr));
    }
  }
  // The legacy trick: headers hidden after the version ("HTTP/1.1\r\nHost:
  // x") go out as written.
  std::string req = meth + " " + uri + " " + ver + "\r\n";
  bool has_cl = false;
  for (const auto& [n, v] : hdrs) {
    req += n + ": " + v + "\r\n";
    if (http::iequals(n, "content-length")) has_cl = true;
  }
  // http-check send-state: after the user's headers (filled in per check).
  std::size_t state_at = in.def.send_state ? req.size() : std::string::npos;
  if (!body.empty() && !has_cl) req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n";
  req += body;
  steps.push_back(CheckStep::connect(false));
  steps.push_back(CheckStep::send(std::move(req)));
  steps.back().state_at = state_at;
  steps.push_back(CheckStep::expect(
      std::make_shared<HttpMatcher>(std::move(rules), in.def.disable_on_404, meth == "HEAD")));
  return {};
}

}  // namespace sluice::checks
