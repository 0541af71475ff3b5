// The listening socket of serve/http_server.h and the file-descriptor budget it runs on.
#pragma once
#include <string>

namespace convoy::serve {

// A non-blocking TCP socket bound to host:port (port 0: any free port) and listening with
// `backlog` (the kernel caps it at net.core.somaxconn). host is an address or a name
// ("0.0.0.0", "::", "127.0.0.1", "localhost"). A convoy::Error names host and port when the
// address cannot be bound.
int open_listen_socket(const std::string& host, int port, int backlog);

// The port a bound socket holds.
int bound_port(int fd);

// Raises this process's soft limit on open files towards `wanted` (never past the hard limit)
// and returns the soft limit in force afterwards.
long raise_open_file_limit(long wanted);

}  // namespace convoy::serve
