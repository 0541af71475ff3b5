// Every convoy tool implements run_tool(); tool_main.cpp turns a convoy::Error (or any
// exception) into one line on stderr and exit status 1;
// a command line the parser refuses exits with 2 (tools/cli_checks.h).
#pragma once
int run_tool(int argc, char** argv);
