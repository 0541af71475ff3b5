// Every convoy tool implements run_tool(); tool_main.cpp turns a convoy::Error (or any
// exception) into one line on stderr and exit status 1.
#pragma once
int run_tool(int argc, char** argv);
