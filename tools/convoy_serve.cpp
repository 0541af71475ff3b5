// convoy-serve: a trained model behind SageMaker's inference contract (serve/server.h).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "engine/device.h"
#include "engine/error.h"
#include "engine/threads.h"
#include "serve/predictor.h"
#include "serve/server.h"
#include "serve/shutdown_signal.h"
#include "tools/cli_checks.h"
#include "tools/tool_main.h"

int run_tool(int argc, char** argv) {
  std::string model_path, host = "0.0.0.0", device = "auto";
  int port = 8080, threads = 0, max_batch = 64, top_k = 5, http_threads = 64, max_connections = 1024;
  double max_wait_ms = 2.0, timeout_s = 5.0, keep_alive_s = 5.0;
  CLI::App app{"Serve a trained convoy model over HTTP (SageMaker inference contract: GET /ping, POST "
               "/invocations, GET /execution-parameters)."};
  app.add_option("--model", model_path, "A model.convoy file, or a folder holding one (e.g. /opt/ml/model)")->required();
  auto* port_option = app.add_option("--port", port, "TCP port (default $SAGEMAKER_BIND_TO_PORT, else 8080; 0 = any free port)")
                          ->check(CLI::Range(0, 65535));
  app.add_option("--host", host, "Address to listen on")->capture_default_str();
  app.add_option("--device", device, "cpu | cuda | cuda:N | auto")->capture_default_str();
  app.add_option("--threads", threads, "CPU threads for inference (0 = all)")->capture_default_str();
  app.add_option("--max-batch", max_batch, "Images per forward pass (1 = no micro-batching)")
      ->capture_default_str()->check(CLI::Range(1, 4096));
  app.add_option("--max-wait-ms", max_wait_ms, "How long a request waits for others to share its pass")
      ->capture_default_str()->check(CLI::Range(0.0, 1000.0));
  app.add_option("--top-k", top_k, "Classes listed per image")->capture_default_str()->check(CLI::Range(1, 1000));
  app.add_option("--http-threads", http_threads, "Worker threads: requests decoded and predicted at once")
      ->capture_default_str()->check(CLI::Range(1, 4096));
  app.add_option("--max-connections", max_connections, "Connections open at once (idle ones are closed first to make room)")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  app.add_option("--timeout", timeout_s, "Seconds a whole request (head and body) may take to arrive, and its answer to be taken")
      ->capture_default_str()->check(CLI::Range(0.1, 3600.0));
  app.add_option("--keep-alive-timeout", keep_alive_s, "Seconds a connection may stay open with no request in progress")
      ->capture_default_str()->check(CLI::Range(0.1, 3600.0));
  CONVOY_PARSE(app, argc, argv);

  if (port_option->count() == 0) {
    const char* env = std::getenv("SAGEMAKER_BIND_TO_PORT");
    if (env && *env) {
      char* end = nullptr;
      const long v = std::strtol(env, &end, 10);
      if (*end != '\0' || v < 0 || v > 65535)
        convoy::fail("SAGEMAKER_BIND_TO_PORT='", env, "' is not a port number");
      port = static_cast<int>(v);
    }
  }
  convoy::set_num_threads(convoy::usable_threads(threads));
  convoy::serve::PredictorOptions po;
  po.device = convoy::parse_device(device);
  po.top_k = top_k;
  po.max_forward_batch = std::max(256, max_batch);
  auto predictor = convoy::serve::Predictor::load(model_path, po);

  convoy::serve::ServerOptions so;
  so.host = host;
  so.port = port;
  so.http_threads = http_threads;
  so.max_connections = max_connections;
  so.batching.max_batch = max_batch;
  so.batching.max_wait = std::chrono::microseconds(static_cast<int64_t>(max_wait_ms * 1000.0));
  so.request_timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000.0));
  so.keep_alive_timeout = std::chrono::milliseconds(static_cast<int64_t>(keep_alive_s * 1000.0));
  so.execution = convoy::serve::execution_parameters_from_env();
  // The body limit is the payload size SageMaker advertises and sends (batch transform).
  so.limits = convoy::serve::limits_for_payload_mb(so.execution.max_payload_in_mb);
  convoy::serve::InferenceServer server(*predictor, so);
  server.bind();
  convoy::serve::ShutdownSignals signals([&](int sig) {
    std::fprintf(stderr, "convoy-serve: %s: finishing the requests in flight\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server.stop();
  });
  std::fprintf(stderr, "convoy-serve: model %s (%s, %d classes) on %s, max batch %d, max wait %.3g ms, "
               "at most %d connections\n",
               model_path.c_str(), predictor->model_name().c_str(), predictor->num_classes(),
               predictor->device().to_string().c_str(), max_batch, max_wait_ms, server.max_connections());
  std::fprintf(stderr, "listening on %s\n", server.url().c_str());
  std::fflush(stderr);
  server.run();
  const auto st = server.stats();
  std::fprintf(stderr, "convoy-serve: stopped after %lld requests, %lld images in %lld passes\n",
               static_cast<long long>(st.requests), static_cast<long long>(st.images),
               static_cast<long long>(st.passes));
  return 0;
}
