// A process-wide "please stop" flag for long loops, set by SIGTERM / SIGINT (SageMaker's
// StopTrainingJob sends SIGTERM 120 s before SIGKILL). The signal handler only records the
// signal; the loop polls stop_requested() at a safe point (the end of a training step),
// saves what it must and returns. Usable by any tool.
#pragma once

namespace convoy {

// Installs handlers for SIGTERM and SIGINT that set the flag. A second SIGINT (Ctrl-C twice)
// kills the process the default way; SIGTERM keeps being caught.
void install_stop_signal_handlers();
bool stop_requested();
// The signal that asked to stop (SIGTERM, SIGINT, ...), or 0 when none did.
int stop_signal();
// Sets the flag without a signal (tests, embedding programs); `signal` is what stop_signal()
// reports (0 is reported as -1, so that the flag stays set).
void request_stop(int signal);
void clear_stop_request();

}  // namespace convoy
