// The progress bar as a person sees it: convoy-train and convoy-eval under a pseudo-terminal
// draw it on stderr (the label, 30 cells filled at the end, done/total), not with
// --no-progress, and not when stderr is a pipe.
#include <gtest/gtest.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "tests/tools/tool_run.h"

namespace convoy {
namespace {

using test::run_command;
using test::TempDir;
using test::tool;

// Runs `cmd` with a pseudo-terminal as its stdin, stdout and stderr; returns what it wrote.
std::string run_in_terminal(const std::string& cmd, int& status) {
  int master = -1;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string out;
  if (pid < 0) return out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(master, buf, sizeof(buf));
    if (n > 0) out.append(buf, static_cast<size_t>(n));
    else if (n < 0 && errno == EINTR) continue;
    else break;  // EIO: the child side closed
  }
  ::close(master);
  ::waitpid(pid, &status, 0);
  return out;
}

const std::string kFullBar = "[" + std::string(30, '#') + "]";

TEST(ProgressBar, DrawnOnATerminalOnly) {
  TempDir dir("progress");
  const std::string train = tool("convoy-train") +
                            " --data synthetic:400 --batch-size 40 --epochs 1 --threads 2 --model quick --out ";
  int status = -1;
  std::string out = run_in_terminal(train + (dir / "tty"), status);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_NE(out.find("epoch 1/1 " + kFullBar + " 10/10"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[K"), std::string::npos) << "the bar clears its line";
  EXPECT_NE(out.find("epoch=1 train_loss="), std::string::npos) << out;

  out = run_in_terminal(train + (dir / "quiet") + " --no-progress", status);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_EQ(out.find("epoch 1/1 ["), std::string::npos) << out;
  EXPECT_NE(out.find("epoch=1 train_loss="), std::string::npos) << out;

  auto piped = run_command(train + (dir / "piped"));
  ASSERT_EQ(piped.status, 0) << piped.output;
  EXPECT_EQ(piped.output.find("epoch 1/1 ["), std::string::npos) << piped.output;

  // convoy-eval: 80 test images in batches of 20.
  out = run_in_terminal(tool("convoy-eval") + " --data synthetic:400 --threads 2 --batch-size 20 --model " +
                            (dir / "tty") + "/model.convoy",
                        status);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_NE(out.find("eval " + kFullBar + " 4/4"), std::string::npos) << out;
}

}  // namespace
}  // namespace convoy
