#include "serve/server.h"

#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "engine/error.h"
#include "serve/answer_json.h"

namespace convoy::serve {

namespace {

int env_int(const char* name, int fallback, int lo, int hi) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  int out = 0;
  std::string_view s(v);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end != s.data() + s.size() || out < lo || out > hi)
    fail("environment variable ", name, "='", s, "' must be an integer in [", lo, ", ", hi, "]");
  return out;
}

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump() + "\n", "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, {{"error", message}, {"status", status}});
}

const char* reason(int status) {
  switch (status) {
    case 400: return "bad request";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 408: return "request timeout";
    case 413: return "request body too large";
    case 414: return "URI too long";
    case 415: return "unsupported media type";
    case 503: return "service unavailable";
    default: return "request failed";
  }
}

// JSON Lines when Accept names it, JSON when Accept names application/json, else the answer
// follows the request: JSON Lines in, JSON Lines out.
bool wants_jsonlines(const httplib::Request& req, const std::string& request_format) {
  const std::string accept = req.get_header_value("Accept");
  if (accept.find("application/jsonlines") != std::string::npos ||
      accept.find("application/x-jsonlines") != std::string::npos)
    return true;
  if (accept.find("application/json") != std::string::npos) return false;
  return request_format == "application/jsonlines" || request_format == "application/x-jsonlines";
}

}  // namespace

ExecutionParameters execution_parameters_from_env() {
  ExecutionParameters p;
  p.max_concurrent_transforms =
      env_int("SAGEMAKER_MAX_CONCURRENT_TRANSFORMS", p.max_concurrent_transforms, 1, 1024);
  p.max_payload_in_mb = env_int("SAGEMAKER_MAX_PAYLOAD_IN_MB", p.max_payload_in_mb, 0, 100);
  if (const char* s = std::getenv("SAGEMAKER_BATCH_STRATEGY"); s && *s) {
    const std::string v = s;
    if (v != "SINGLE_RECORD" && v != "MULTI_RECORD")
      fail("environment variable SAGEMAKER_BATCH_STRATEGY='", v, "' must be SINGLE_RECORD or MULTI_RECORD");
    p.batch_strategy = v;
  }
  return p;
}

struct InferenceServer::Impl {
  Impl(Predictor& p, const ServerOptions& o) : predictor(p), options(o), batcher(p, o.batching) {}

  Predictor& predictor;
  ServerOptions options;
  MicroBatcher batcher;
  httplib::Server http;
  int bound_port = -1;
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable cv;
  bool running = false;

  void install_routes();
  void invocations(const httplib::Request& req, httplib::Response& res);
};

void InferenceServer::Impl::invocations(const httplib::Request& req, httplib::Response& res) {
  batcher.expect_request();
  DecodeResult decoded = decode_request(req.get_header_value("Content-Type"), req.body, options.limits);
  if (auto* e = std::get_if<RequestError>(&decoded)) {
    batcher.cancel_expected();
    return send_error(res, e->status, e->message);
  }
  DecodedRequest& r = std::get<DecodedRequest>(decoded);
  const bool jsonlines = wants_jsonlines(req, r.format);
  std::vector<Prediction> answers;
  try {
    answers = batcher.predict(std::move(r.images), r.count);
  } catch (const std::exception& e) {
    return send_error(res, stopping ? 503 : 500, std::string("prediction failed: ") + e.what());
  }
  if (jsonlines) {
    std::string lines;
    for (const auto& a : answers) lines += prediction_json(a).dump() + "\n";
    res.status = 200;
    res.set_content(lines, "application/jsonlines");
  } else {
    send_json(res, 200, predictions_json(answers));
  }
}

void InferenceServer::Impl::install_routes() {
  http.Get("/ping", [](const httplib::Request&, httplib::Response& res) { send_json(res, 200, {{"status", "ok"}}); });
  http.Get("/execution-parameters", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200,
              {{"MaxConcurrentTransforms", options.execution.max_concurrent_transforms},
               {"BatchStrategy", options.execution.batch_strategy},
               {"MaxPayloadInMB", options.execution.max_payload_in_mb}});
  });
  http.Post("/invocations", [this](const httplib::Request& req, httplib::Response& res) { invocations(req, res); });

  // Everything else: 405 on a known path (saying which method it takes), else 404.
  auto other = [](const httplib::Request& req, httplib::Response& res) {
    const char* allow = req.path == "/invocations" ? "POST"
                        : (req.path == "/ping" || req.path == "/execution-parameters") ? "GET, HEAD"
                                                                                         : nullptr;
    if (!allow) return send_error(res, 404, "no such path " + req.path + ": use /ping, /invocations or /execution-parameters");
    res.set_header("Allow", allow);
    send_error(res, 405, req.method + " is not allowed on " + req.path + "; use " + allow);
  };
  http.Get(".*", other);
  http.Post(".*", other);
  http.Put(".*", other);
  http.Patch(".*", other);
  http.Delete(".*", other);
  http.Options(".*", other);

  // Errors raised inside httplib (413 from Content-Length, 400 on a malformed request or a
  // read timeout) get the same JSON body as ours.
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) -> httplib::Server::HandlerResponse {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        send_error(res, res.status, reason(res.status));
        return httplib::Server::HandlerResponse::Handled;
      }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what += std::string(": ") + e.what();
    } catch (...) {
    }
    send_error(res, 500, what);
  });
}

InferenceServer::InferenceServer(Predictor& predictor, const ServerOptions& options)
    : impl_(std::make_unique<Impl>(predictor, options)) {
  if (options.http_threads < 1) fail("server: --http-threads must be at least 1");
  // A client that hangs up mid-answer must not kill the server with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  auto& h = impl_->http;
  const size_t threads = static_cast<size_t>(options.http_threads);
  h.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  h.set_payload_max_length(options.limits.max_body_bytes);
  h.set_read_timeout(options.read_timeout);
  h.set_write_timeout(options.write_timeout);
  h.set_keep_alive_timeout(options.keep_alive_seconds);
  h.set_keep_alive_max_count(static_cast<size_t>(std::max(1, options.keep_alive_max_requests)));
  h.set_tcp_nodelay(true);
  impl_->install_routes();
}

InferenceServer::~InferenceServer() {
  stop();
  impl_->batcher.stop();
}

int InferenceServer::bind() {
  if (impl_->bound_port >= 0) return impl_->bound_port;
  const auto& o = impl_->options;
  if (o.port < 0 || o.port > 65535) fail("server: port ", o.port, " is not in [0, 65535]");
  if (o.port == 0) {
    impl_->bound_port = impl_->http.bind_to_any_port(o.host);
    if (impl_->bound_port < 0) fail("server: cannot bind a free port on ", o.host);
  } else {
    if (!impl_->http.bind_to_port(o.host, o.port))
      fail("server: cannot bind ", o.host, ":", o.port, " (in use, or not an address of this machine); pick "
           "another with --port");
    impl_->bound_port = o.port;
  }
  return impl_->bound_port;
}

void InferenceServer::run() {
  bind();
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->stopping) return;
    impl_->running = true;
  }
  // httplib's stop() is lost if it comes before listen starts: a helper repeats it until
  // listen has returned.
  std::atomic<bool> listen_done{false};
  std::thread stopper([&] {
    std::unique_lock<std::mutex> lock(impl_->mutex);
    impl_->cv.wait(lock, [&] { return impl_->stopping.load() || listen_done.load(); });
    lock.unlock();
    while (!listen_done) {
      impl_->http.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  impl_->http.listen_after_bind();  // returns after the worker threads have finished
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    listen_done = true;
    impl_->running = false;
  }
  impl_->cv.notify_all();
  stopper.join();
}

void InferenceServer::stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
}

int InferenceServer::port() const { return impl_->bound_port; }

std::string InferenceServer::url() const {
  return "http://" + impl_->options.host + ":" + std::to_string(impl_->bound_port);
}

BatcherStats InferenceServer::stats() const { return impl_->batcher.stats(); }

}  // namespace convoy::serve
