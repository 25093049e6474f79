// log-format compilation and evaluation: variables, flags, sample fetches,
// converters, and the errors an operator sees.
#include "log/logformat.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>

#include "log/logger.h"

namespace sluice::log {
namespace {

// A fetch that returns a fixed string (or nothing for the name "none").
class FixedFetch final : public FetchCall {
 public:
  explicit FixedFetch(std::string v, bool present) : v_(std::move(v)), present_(present) {}
  bool fetch(const acl::SampleSource&, acl::Sample& out) const override {
    if (!present_) return false;
    out.type = acl::SampleType::Str;
    out.str = v_;
    return true;
  }

 private:
  std::string v_;
  bool present_;
};

class TestBinder final : public FetchBinder {
 public:
  Result<std::shared_ptr<const FetchCall>> bind(std::string_view name,
                                                const std::vector<std::string>& args) override {
    if (name == "hdr") {
      std::string v = args.empty() ? "" : "Value-Of-" + args[0];
      return std::shared_ptr<const FetchCall>(std::make_shared<FixedFetch>(v, true));
    }
    if (name == "none")
      return std::shared_ptr<const FetchCall>(std::make_shared<FixedFetch>("", false));
    return make_error("unknown fetch '" + std::string(name) + "'");
  }
};

class Src final : public acl::SampleSource {};

HttpLogFields sample_fields() {
  HttpLogFields f;
  f.client_addr = "127.0.0.1";
  f.client_port = 47852;
  f.request_time.tv_sec = 1795430364;  // 23/Nov/2026:10:39:24 UTC
  f.request_time.tv_usec = 814000;
  f.frontend = "fe";
  f.backend = "be";
  f.server = "s1";
  f.treq = 1;
  f.tw = 2;
  f.tc = 3;
  f.tr = 4;
  f.ta = 12;
  f.status = 200;
  f.bytes_read = 76;
  f.termination[2] = 'N';
  f.termination[3] = 'I';
  f.actconn = 5;
  f.feconn = 4;
  f.beconn = 3;
  f.srv_conn = 2;
  f.retries = 1;
  f.request_line = "GET /p/a?x=1 HTTP/1.1";
  return f;
}

std::string eval(std::string_view fmt, const LogContext& ctx) {
  TestBinder b;
  auto lf = LogFormat::compile(fmt, &b);
  EXPECT_TRUE(lf.ok()) << (lf.ok() ? "" : lf.error());
  if (!lf.ok()) return "";
  char buf[512];
  Line l{buf, sizeof buf};
  lf->write(ctx, l);
  return std::string(buf, std::min(l.n, sizeof buf));
}

class LogFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
    f = sample_fields();
    ctx.http = &f;
    ctx.samples = &src;
    ctx.idle = 7;
  }
  HttpLogFields f;
  Src src;
  LogContext ctx;
};

TEST_F(LogFormatTest, HttplogEquivalentMatchesTheBuiltInFormat) {
  const char* httplog =
      "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc "
      "%sq/%bq %hr %hs %{+Q}r";
  // Without captures HAProxy's format leaves %hr %hs empty; the built-in
  // writer collapses their spaces, a custom format keeps what it is given.
  std::string got = eval(httplog, ctx);
  EXPECT_EQ(got,
            "127.0.0.1:47852 [23/Nov/2026:10:39:24.814] fe be/s1 1/2/3/4/12 200 76 - - --NI "
            "5/4/3/2/1 0/0   \"GET /p/a?x=1 HTTP/1.1\"");
}

TEST_F(LogFormatTest, RequestLinePartsAndTimers) {
  EXPECT_EQ(eval("%HM %HU %HP %HQ %HV", ctx), "GET /p/a?x=1 /p/a ?x=1 HTTP/1.1");
  EXPECT_EQ(eval("%Tt %Tq %Ti %Th %Td", ctx), "19 8 7 0 2");
  EXPECT_EQ(eval("%ts|%tsc|%rc", ctx), "--|--NI|1");
  f.redispatched = true;
  EXPECT_EQ(eval("%rc", ctx), "+1");
}

TEST_F(LogFormatTest, DatesInGmtAndLocal) {
  EXPECT_EQ(eval("%T", ctx), "23/Nov/2026:10:39:24 +0000");
  EXPECT_EQ(eval("%trg %Ts %ms", ctx), "23/Nov/2026:10:39:24 +0000 1795430364 814");
  EXPECT_EQ(eval("%{+Q}t", ctx), "\"23/Nov/2026:10:39:24.814\"");
}

TEST_F(LogFormatTest, FlagsQuoteHexAndGlobal) {
  EXPECT_EQ(eval("%{+Q}b %b", ctx), "\"be\" be");
  EXPECT_EQ(eval("%{+X}cp", ctx), "BAEC");
  EXPECT_EQ(eval("%{+Q}o %b %s %{-Q}f", ctx), " \"be\" \"s1\" fe");
  EXPECT_EQ(eval("100%% %b", ctx), "100% be");
}

TEST_F(LogFormatTest, FetchesAndConverters) {
  EXPECT_EQ(eval("x=%[hdr(Host)]", ctx), "x=Value-Of-Host");
  EXPECT_EQ(eval("%[hdr(Host),lower] %[hdr(Host),upper]", ctx), "value-of-host VALUE-OF-HOST");
  EXPECT_EQ(eval("%[hdr(ab),hex]", ctx), "56616C75652D4F662D6162");
  EXPECT_EQ(eval("%[hdr(a),base64]", ctx), "VmFsdWUtT2YtYQ==");
  EXPECT_EQ(eval("%[none] %{+Q}[hdr(a)]", ctx), "- \"Value-Of-a\"");
}

TEST_F(LogFormatTest, CapturesAreWrittenAsGiven) {
  ctx.req_captures = "{www.example.com|curl}";
  EXPECT_EQ(eval("%hr %hs.", ctx), "{www.example.com|curl} .");
  char buf[64];
  Line l{buf, sizeof buf};
  encode_capture(l, "a|b{\"#}\x01");
  EXPECT_EQ(std::string(buf, l.n), "a#7Cb#7B#22#23#7D#01");
}

TEST_F(LogFormatTest, LiteralDetection) {
  TestBinder b;
  auto lit = LogFormat::compile("plain text", &b);
  ASSERT_TRUE(lit.ok());
  EXPECT_TRUE(lit->is_literal());
  EXPECT_EQ(lit->literal(), "plain text");
  auto var = LogFormat::compile("a %b", &b);
  ASSERT_TRUE(var.ok());
  EXPECT_FALSE(var->is_literal());
}

TEST_F(LogFormatTest, BoundedOutputCountsThePastEnd) {
  TestBinder b;
  auto lf = LogFormat::compile("%b-%b-%b", &b);
  ASSERT_TRUE(lf.ok());
  char buf[4];
  Line l{buf, sizeof buf};
  lf->write(ctx, l);
  EXPECT_EQ(l.n, 8U);
  EXPECT_EQ(std::string(buf, 4), "be-b");
}

// A `mode tcp` session in a custom format; the expected text is the line
// Debian's haproxy 2.6 wrote for the same fields (times aside, they are ours).
TEST(LogFormatTcp, TcplogFieldsThroughCustomVariables) {
  setenv("TZ", "UTC", 1);
  tzset();
  TcpLogFields f;
  f.client_addr = "127.0.0.1";
  f.client_port = 34042;
  f.accept_time.tv_sec = 1795461709;  // 23/Nov/2026:19:21:49 UTC
  f.accept_time.tv_usec = 278000;
  f.frontend = "lg";
  f.backend = "lg";
  f.server = "s1";
  f.tw = 1;
  f.tc = 0;
  f.tt = 20;
  f.bytes_read = 11;
  f.actconn = 1;
  f.feconn = 1;
  sockaddr_in fe{}, srv{};
  fe.sin_family = srv.sin_family = AF_INET;
  fe.sin_addr.s_addr = srv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  fe.sin_port = htons(19002);
  srv.sin_port = htons(19001);
  sockaddr_storage fe_ss{}, srv_ss{};
  std::memcpy(&fe_ss, &fe, sizeof fe);
  std::memcpy(&srv_ss, &srv, sizeof srv);
  TcpLogExtras x;
  x.frontend = &fe_ss;
  x.server = &srv_ss;
  x.bytes_uploaded = 11;
  TestBinder b;
  auto lf = LogFormat::compile(
      "ci=%ci cp=%cp fi=%fi fp=%fp fc=%fc f=%f ft=%ft b=%b s=%s si=%si sp=%sp ST=%ST Tt=%Tt "
      "Tw=%Tw Tc=%Tc Th=%Th Td=%Td B=%B U=%U ac=%ac bc=%bc sc=%sc rc=%rc sq=%sq bq=%bq ts=%ts "
      "tsc=%tsc ID=%ID hr=%hr hs=%hs rt=%rt t=%t T=%T ms=%ms",
      &b);
  ASSERT_TRUE(lf.ok());
  EXPECT_TRUE(lf->http_only_variable().empty());
  char buf[1024];
  std::size_t n = format_tcp_custom(*lf, f, x, buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n),
            "ci=127.0.0.1 cp=34042 fi=127.0.0.1 fp=19002 fc=1 f=lg ft=lg b=lg s=s1 si=127.0.0.1 "
            "sp=19001 ST=0 Tt=20 Tw=1 Tc=0 Th=0 Td=19 B=11 U=11 ac=1 bc=0 sc=0 rc=0 sq=0 bq=0 "
            "ts=-- tsc=---- ID=- hr= hs= rt=0 t=23/Nov/2026:19:21:49.278 "
            "T=23/Nov/2026:19:21:49 +0000 ms=278");

  // No server reached (refused, 1 retry): "<NOSRV>"-free names, "-" addresses, Td -1.
  f.server = "<NOSRV>";
  f.tc = -1;
  f.retries = 1;
  f.termination[0] = 'S';
  f.termination[1] = 'C';
  x.server = nullptr;
  x.frontend = nullptr;
  auto lf2 = LogFormat::compile("%s %si:%sp %fi:%fp %Tc %Td %rc %tsc %{+Q}s", &b);
  ASSERT_TRUE(lf2.ok());
  n = format_tcp_custom(*lf2, f, x, buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n), "<NOSRV> -:- -:- -1 -1 1 SC-- \"<NOSRV>\"");
}

TEST(LogFormatTcp, NamesTheFirstHttpOnlyVariable) {
  TestBinder b;
  for (const char* v : {"r", "HM", "HP", "HQ", "HU", "HV", "Tq", "TR", "Tr", "Ta", "Ti", "tr",
                        "trg", "trl", "CC", "CS"}) {
    auto lf = LogFormat::compile(std::string("%ci %{+Q}") + v + " %r", &b);
    ASSERT_TRUE(lf.ok()) << v;
    EXPECT_EQ(lf->http_only_variable(), v);
  }
  auto ok = LogFormat::compile("%ci %t %Tt %Td %B %U %H %pid %[hdr(x)]", &b);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->http_only_variable(), "");
}

TEST(LogFormatErrors, NameWhatIsWrong) {
  TestBinder b;
  struct Case {
    const char* fmt;
    const char* msg;
  } cases[] = {
      {"%zz", "unknown log-format variable '%zz'"},
      {"%hrl", "'%hrl' is not implemented yet"},
      {"%[nosuch(1)]", "unknown fetch 'nosuch'"},
      {"%[hdr(a),sha1]", "converter 'sha1' is not implemented yet"},
      {"%[hdr(a)", "missing ']'"},
      {"%{+Z}b", "unknown log-format flag '+Z'"},
      {"%{+Q", "missing '}'"},
      {"50% off", "variable name must follow '%'"},
  };
  for (const auto& c : cases) {
    auto r = LogFormat::compile(c.fmt, &b);
    ASSERT_FALSE(r.ok()) << c.fmt;
    EXPECT_NE(r.error().find(c.msg), std::string::npos) << c.fmt << " -> " << r.error();
  }
  EXPECT_FALSE(LogFormat::compile("%[hdr(a)]", nullptr).ok());
}

}  // namespace
}  // namespace sluice::log
