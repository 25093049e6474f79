// Cutting lines into words: quotes, escapes, comments, environment.

#include "config/lexer.h"

#include <gtest/gtest.h>

#include <map>

namespace sluice::config {
namespace {

using Words = std::vector<std::string>;

LexContext ctx_with(std::map<std::string, std::string> env) {
  LexContext c;
  c.file = "f.cfg";
  c.line = 7;
  c.section = "fe";
  c.env = [env](const std::string& n) -> std::optional<std::string> {
    auto it = env.find(n);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return c;
}

Words split(std::string_view line, std::map<std::string, std::string> env = {}) {
  auto r = split_line(line, ctx_with(std::move(env)));
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : Words{};
}

std::string split_error(std::string_view line) {
  auto r = split_line(line, ctx_with({}));
  EXPECT_FALSE(r.ok());
  return r.ok() ? std::string() : r.error();
}

TEST(ConfigLexer, SpacesAndTabsSeparateWords) {
  EXPECT_EQ(split("  bind\t*:80   name  x "), (Words{"bind", "*:80", "name", "x"}));
  EXPECT_EQ(split(""), Words{});
  EXPECT_EQ(split("   \t "), Words{});
}

TEST(ConfigLexer, HashStartsAComment) {
  EXPECT_EQ(split("# only a comment"), Words{});
  EXPECT_EQ(split("daemon # trailing"), Words{"daemon"});
  EXPECT_EQ(split("daemon#glued"), Words{"daemon"});
  EXPECT_EQ(split("a \\#b"), (Words{"a", "#b"}));
  EXPECT_EQ(split("a \"#b\" '#c'"), (Words{"a", "#b", "#c"}));
}

TEST(ConfigLexer, BackslashEscapesOutsideQuotes) {
  EXPECT_EQ(split("a\\ b"), Words{"a b"});
  EXPECT_EQ(split("a\\\\b"), Words{"a\\b"});
  EXPECT_EQ(split("\\\"x\\'"), Words{"\"x'"});
  EXPECT_EQ(split("a\\tb\\nc\\rd"), Words{"a\tb\nc\rd"});
  EXPECT_EQ(split("\\x41\\x62"), Words{"Ab"});
  EXPECT_EQ(split("keep\\q"), Words{"keep\\q"});  // unknown escapes stay
  EXPECT_EQ(split("\\$HOME"), Words{"$HOME"});
}

TEST(ConfigLexer, DoubleQuotesProtectSpacesAndAllowEscapes) {
  EXPECT_EQ(split("log-tag \"a b\"  c"), (Words{"log-tag", "a b", "c"}));
  EXPECT_EQ(split("\"a\\\"b\""), Words{"a\"b"});
  EXPECT_EQ(split("\"it's\""), Words{"it's"});
  EXPECT_EQ(split("x\"y z\"w"), Words{"xy zw"});
  EXPECT_EQ(split("\"\""), Words{""});  // an empty argument
  EXPECT_EQ(split("\"\\t\""), Words{"\t"});
}

TEST(ConfigLexer, SingleQuotesAreLiteral) {
  EXPECT_EQ(split("'a \\t $HOME \"q\"'"), Words{"a \\t $HOME \"q\""});
  EXPECT_EQ(split("'a'\"b\"c"), Words{"abc"});
  EXPECT_EQ(split("''"), Words{""});
}

TEST(ConfigLexer, EnvironmentInsideDoubleQuotes) {
  std::map<std::string, std::string> env{{"PORT", "8080"}, {"HOST", "10.0.0.1"}};
  EXPECT_EQ(split("bind \"$HOST:${PORT}\"", env), (Words{"bind", "10.0.0.1:8080"}));
  EXPECT_EQ(split("x \"${UNSET}\"", env), (Words{"x", ""}));  // unset: an empty word
  EXPECT_EQ(split("x \"${UNSET-def}\"", env), (Words{"x", "def"}));
  EXPECT_EQ(split("x \"\\$PORT\"", env), (Words{"x", "$PORT"}));
  EXPECT_EQ(split("x \"cost $5\"", env), (Words{"x", "cost $5"}));
}

TEST(ConfigLexer, BracedEnvironmentOutsideQuotes) {
  std::map<std::string, std::string> env{{"PORT", "8080"}, {"LIST", "a b  c"}};
  EXPECT_EQ(split("bind :${PORT}", env), (Words{"bind", ":8080"}));
  EXPECT_EQ(split("x ${UNSET} y", env), (Words{"x", "y"}));  // vanishes unquoted
  EXPECT_EQ(split("x $PORT", env), (Words{"x", "$PORT"}));  // only ${} unquoted
  EXPECT_EQ(split("x ${LIST[*]} y", env), (Words{"x", "a", "b", "c", "y"}));
  EXPECT_EQ(split("x '${PORT}'", env), (Words{"x", "${PORT}"}));
}

TEST(ConfigLexer, PseudoVariables) {
  EXPECT_EQ(split("x \"${.FILE}:${.LINE}\" ${.SECTION}"), (Words{"x", "f.cfg:7", "fe"}));
}

TEST(ConfigLexer, Errors) {
  EXPECT_EQ(split_error("a \"open"), "unterminated double quote");
  EXPECT_EQ(split_error("a 'open"), "unterminated single quote");
  EXPECT_EQ(split_error("a ${OPEN"), "missing '}' after '${'");
  EXPECT_EQ(split_error("a ${1X}"), "invalid variable name in '${1X}'");
  EXPECT_EQ(split_error("a ${X+y}"), "invalid variable reference '${X+y}'");
  EXPECT_EQ(split_error("a \\xZZ"), "invalid '\\x' escape: expected two hex digits");
}

TEST(ConfigLexer, ProcessEnvironmentByDefault) {
  setenv("SLUICE_LEXER_TEST", "yes", 1);
  LexContext c;
  auto r = split_line("\"${SLUICE_LEXER_TEST}\"", c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Words{"yes"});
}

}  // namespace
}  // namespace sluice::config

#include "config/load.h"

namespace sluice::config {
namespace {

TEST(ConfigLexer, ThroughTheLoaderWithLineNumbers) {
  setenv("SLUICE_TEST_PORT", "8443", 1);
  unsetenv("SLUICE_TEST_UNSET");
  LoadOptions opts;
  opts.resolve_hostnames = false;
  auto r = load_text(
      "global\n"
      "  node \"unterminated\n"
      "  log-tag 'tag with spaces'   # comment\n"
      "  pidfile /tmp/a\\ b.pid\n"
      "frontend f\n"
      "  bind \"127.0.0.1:${SLUICE_TEST_PORT}\" name \"${SLUICE_TEST_UNSET}\"\n"
      "  bind :${SLUICE_TEST_PORT}1\n"
      "  timeout client 1s\n"
      "  default_backend b\n"
      "backend b\n"
      "  timeout connect 1s\n"
      "  timeout server 1s\n"
      "  description ${SLUICE_TEST_UNSET} \"\"\n",
      "lex.cfg", opts);
  ASSERT_EQ(r.errors.size(), 2U);
  EXPECT_EQ(format_diagnostic(r.errors[0]), "lex.cfg:2: [syntax] unterminated double quote");
  EXPECT_EQ(format_diagnostic(r.errors[1]),
            "lex.cfg:7: [bind] invalid port '84431' in ':84431' (expected 1..65535)");
  EXPECT_EQ(r.model.global.log_tag, "tag with spaces");
  EXPECT_EQ(r.model.global.pidfile, "/tmp/a b.pid");
  const Proxy& f = r.model.proxies[0];
  ASSERT_EQ(f.binds.size(), 1U);
  EXPECT_EQ(f.binds[0].addrs[0].port(), 8443);
  EXPECT_EQ(f.binds[0].name, "");
  EXPECT_EQ(r.model.proxies[1].description, "");
}

}  // namespace
}  // namespace sluice::config
