// load_files / load_text / format_diagnostic: the public face of the parser.

#include "config/load.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "config/parser.h"

namespace sluice::config {
namespace {

AddressOptions address_options(const LoadOptions& opts) {
  AddressOptions a;
  a.resolve_hostnames = opts.resolve_hostnames;
  return a;
}

}  // namespace

LoadResult load_text(const std::string& text, const std::string& name, const LoadOptions& opts) {
  LoadResult out;
  Parser p(out, address_options(opts));
  p.parse_text(text, name);
  p.finish();
  return out;
}

LoadResult load_text(const std::string& text, const std::string& name) {
  return load_text(text, name, LoadOptions{});
}

LoadResult load_files(const std::vector<std::string>& paths, const LoadOptions& opts) {
  LoadResult out;
  Parser p(out, address_options(opts));
  auto fail = [&](const std::string& path, std::string msg) {
    out.errors.push_back(Diagnostic{SourceLoc{path, 0}, "file", std::move(msg)});
  };
  auto read_one = [&](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      fail(path, "cannot open configuration file");
      return;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    p.parse_text(ss.str(), path);
  };
  for (const auto& path : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      std::vector<std::string> files;
      for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
        if (e.path().extension() == ".cfg" && !e.is_directory(ec)) files.push_back(e.path().string());
      }
      if (ec) {
        fail(path, "cannot read directory: " + ec.message());
        continue;
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) read_one(f);
    } else {
      read_one(path);
    }
  }
  p.finish();
  return out;
}

LoadResult load_files(const std::vector<std::string>& paths) {
  return load_files(paths, LoadOptions{});
}

std::string format_diagnostic(const Diagnostic& d) {
  return d.loc.file + ":" + std::to_string(d.loc.line) + ": [" + d.keyword + "] " + d.message;
}

}  // namespace sluice::config
