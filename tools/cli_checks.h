// Flag checks for the tools' CLI11 parsers, with messages in the tools' own words
// ("--cutout -3 must be >= 0"), and one parse step that exits with status 2 on a bad command
// line, as POSIX tools do for usage errors (1 stays "the work failed").
#pragma once
#include <cstdio>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

namespace convoy::tools {

// Accepts a number >= `min` (or > `min` when `strict`).
inline CLI::Validator at_least(double min, bool strict = false) {
  std::ostringstream rule;
  rule << (strict ? "> " : ">= ") << min;
  return CLI::Validator(
      [min, strict, rule = rule.str()](std::string& text) -> std::string {
        double v = 0;
        std::istringstream in(text);
        if (!(in >> v) || !in.eof()) return "'" + text + "' is not a number";
        if (strict ? v > min : v >= min) return {};
        return text + " must be " + rule;
      },
      "NUMBER " + rule.str());
}
inline CLI::Validator positive() { return at_least(0, true); }
inline CLI::Validator non_negative() { return at_least(0); }

// Parses argv; returns -1 to go on, otherwise the status to exit with (0 after --help).
inline int parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::string name = argc > 0 ? std::string(argv[0]) : app.get_name();
    name = name.substr(name.find_last_of('/') + 1);
    std::fprintf(stderr, "%s: error: %s\nRun with --help for more information.\n", name.c_str(), e.what());
    return 2;
  }
  return -1;
}

}  // namespace convoy::tools

// In run_tool(): parse, or return the status parse_command_line chose.
#define CONVOY_PARSE(app, argc, argv)                                                  \
  if (int convoy_parse_status = ::convoy::tools::parse_command_line(app, argc, argv); \
      convoy_parse_status >= 0)                                                        \
  return convoy_parse_status
