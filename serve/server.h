// InferenceServer: SageMaker's inference container contract over HTTP (serve/http_server.h).
//   GET  /ping                  200 {"status": "ok"} (the model is loaded before the server starts),
//                               answered on the event loop: it never waits behind a prediction
//   POST /invocations           body decoded by serve/request_decode.h on a worker thread,
//                               predicted through the micro-batcher; 200 {"predictions": [...]}
//                               (serve/answer_json.h), or JSON lines, one image per line, for
//                               Accept: application/jsonlines (and, without an Accept that
//                               says otherwise, for a JSON Lines request)
//   GET  /execution-parameters  {"MaxConcurrentTransforms", "BatchStrategy", "MaxPayloadInMB"}
// HEAD is answered wherever GET is. Errors are JSON, {"error": "...", "status": N}: 400
// malformed input, 404 unknown path, 405 known path with another method (with an Allow
// header), 408 a request not whole within the request timeout, 413 body over the limit
// (refused from Content-Length, before the body is read), 415 unsupported Content-Type, 500 a
// failure inside the predictor, 503 while shutting down or when the connection cap leaves no
// room. The connection handling (deadlines, the cap, pipelining, keep-alive) is the HTTP
// server's: see serve/http_server.h.
// stop() (e.g. on SIGTERM, serve/shutdown_signal.h) closes the listening socket, lets the
// requests in flight finish and be answered, then run() returns.
#pragma once
#include <chrono>
#include <memory>
#include <string>

#include "serve/http_server.h"
#include "serve/micro_batcher.h"
#include "serve/predictor.h"
#include "serve/request_decode.h"

namespace convoy::serve {

// What GET /execution-parameters answers (SageMaker batch transform reads it to size requests).
struct ExecutionParameters {
  int max_concurrent_transforms = 4;
  std::string batch_strategy = "MULTI_RECORD";
  int max_payload_in_mb = 6;
};
// The defaults above, overridden by SAGEMAKER_MAX_CONCURRENT_TRANSFORMS,
// SAGEMAKER_BATCH_STRATEGY (SINGLE_RECORD | MULTI_RECORD) and SAGEMAKER_MAX_PAYLOAD_IN_MB
// (0..100; 0: no limit, see limits_for_payload_mb); a malformed value is a convoy::Error
// naming the variable.
ExecutionParameters execution_parameters_from_env();

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 8080;                       // 0: any free port (see InferenceServer::port())
  int http_threads = 64;                 // worker threads: requests decoded and predicted at once
  int max_connections = 1024;            // connections open at once (idle ones make room first)
  BatcherOptions batching;
  DecodeLimits limits;                   // limits.max_body_bytes is also the HTTP payload limit
                                         // (limits_for_payload_mb(execution.max_payload_in_mb))
  std::chrono::milliseconds request_timeout{5000};  // a whole request (head and body), and its answer's write
  std::chrono::milliseconds keep_alive_timeout{5000};  // a connection with no request in progress
  int keep_alive_max_requests = 1000;
  ExecutionParameters execution;
};

class InferenceServer {
 public:
  InferenceServer(Predictor& predictor, const ServerOptions& options);
  ~InferenceServer();
  InferenceServer(const InferenceServer&) = delete;
  InferenceServer& operator=(const InferenceServer&) = delete;

  // Binds host:port (a Error naming them when taken) and returns the port bound.
  int bind();
  // Serves until stop(); returns once every request in flight has been answered. Binds first
  // if bind() was not called.
  void run();
  // Thread-safe; may be called before run() starts serving (run() then returns at once).
  void stop();

  int port() const;
  std::string url() const;  // "http://HOST:PORT"
  int max_connections() const;  // the cap in force (lowered when the open-file limit is short)
  BatcherStats stats() const;
  HttpServerStats http_stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace convoy::serve
