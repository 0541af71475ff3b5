#include "serve/server.h"

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <optional>

#include "engine/error.h"
#include "serve/answer_json.h"
#include "serve/memory_release.h"

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

// JSON answers. Error messages may quote bytes of the request that are not UTF-8 (a JPEG sent
// as JSON): they are written with U+FFFD in their place, never refused.
HttpResponse json_answer(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return r;
}

HttpResponse error_answer(int status, const std::string& message) {
  return json_answer(status, {{"error", message}, {"status", status}});
}

// Requests from this size on (about 340 images as raw records, 90 as JSON) are followed by
// giving freed memory back to the system (serve/memory_release.h).
constexpr size_t kLargeRequestBytes = 1 << 20;

// JSON Lines when Accept names it, JSON when Accept names application/json, else the answer
// follows the request: JSON Lines in, JSON Lines out.
bool wants_jsonlines(const HttpHead& head, const std::string& request_format) {
  const std::string_view accept = head.field("Accept");
  if (accept.find("application/jsonlines") != std::string_view::npos ||
      accept.find("application/x-jsonlines") != std::string_view::npos)
    return true;
  if (accept.find("application/json") != std::string_view::npos) return false;
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
  Impl(Predictor& p, const ServerOptions& o)
      : predictor(p), options(o), batcher(p, o.batching), http(http_options(o), route_to(this), error_answer) {}

  static HttpServerOptions http_options(const ServerOptions& o) {
    HttpServerOptions h;
    h.host = o.host;
    h.port = o.port;
    h.max_connections = o.max_connections;
    h.workers = o.http_threads;
    h.limits.max_body_bytes = o.limits.max_body_bytes;
    h.request_timeout = o.request_timeout;
    h.idle_timeout = o.keep_alive_timeout;
    h.keep_alive_max_requests = std::max(1, o.keep_alive_max_requests);
    return h;
  }
  static HttpHandler route_to(Impl* self) {
    return [self](HttpRequest& request) { return self->route(request); };
  }

  Predictor& predictor;
  ServerOptions options;
  MicroBatcher batcher;
  MemoryRelease memory{kLargeRequestBytes, std::chrono::seconds(1)};
  std::atomic<int> in_flight{0};  // /invocations being decoded or predicted
  HttpServer http;                // last: its workers use the members above

  HttpDispatch route(HttpRequest& request);
  HttpResponse invocations(HttpRequest& request);
  HttpResponse predict_answer(const HttpRequest& request);
};

HttpResponse InferenceServer::Impl::invocations(HttpRequest& request) {
  ++in_flight;
  HttpResponse answer = predict_answer(request);
  const size_t bytes = request.body.size();
  std::string().swap(request.body);  // freed before the memory is handed back
  memory.after_request(bytes, --in_flight == 0);
  return answer;
}

HttpResponse InferenceServer::Impl::predict_answer(const HttpRequest& request) {
  batcher.expect_request();
  DecodeResult decoded = decode_request(request.head.field("Content-Type"), request.body, options.limits);
  if (auto* e = std::get_if<RequestError>(&decoded)) {
    batcher.cancel_expected();
    return error_answer(e->status, e->message);
  }
  DecodedRequest& r = std::get<DecodedRequest>(decoded);
  const bool jsonlines = wants_jsonlines(request.head, r.format);
  std::vector<Prediction> answers;
  try {
    answers = batcher.predict(std::move(r.images), r.count);
  } catch (const std::exception& e) {
    return error_answer(http.stopping() ? 503 : 500, std::string("prediction failed: ") + e.what());
  }
  if (jsonlines) {
    HttpResponse res;
    res.content_type = "application/jsonlines";
    for (const auto& a : answers) res.body += prediction_json(a).dump() + "\n";
    return res;
  }
  return json_answer(200, predictions_json(answers));
}

// On the event loop: /ping and /execution-parameters are answered at once, /invocations goes
// to a worker, anything else is a 404 or 405.
HttpDispatch InferenceServer::Impl::route(HttpRequest& request) {
  const std::string& path = request.head.path;
  const std::string& method = request.head.method;
  const bool get = method == "GET" || method == "HEAD";
  HttpDispatch d;
  if (path == "/ping" && get) {
    d.now = json_answer(200, {{"status", "ok"}});
  } else if (path == "/execution-parameters" && get) {
    d.now = json_answer(200, {{"MaxConcurrentTransforms", options.execution.max_concurrent_transforms},
                              {"BatchStrategy", options.execution.batch_strategy},
                              {"MaxPayloadInMB", options.execution.max_payload_in_mb}});
  } else if (path == "/invocations" && method == "POST") {
    d.later = [this, r = std::make_shared<HttpRequest>(std::move(request))] { return invocations(*r); };
  } else {
    const char* allow = path == "/invocations"                                     ? "POST"
                        : (path == "/ping" || path == "/execution-parameters") ? "GET, HEAD"
                                                                                 : nullptr;
    if (!allow) {
      d.now = error_answer(404, "no such path " + path + ": use /ping, /invocations or /execution-parameters");
    } else {
      d.now = error_answer(405, method + " is not allowed on " + path + "; use " + allow);
      d.now->fields.emplace_back("Allow", allow);
    }
  }
  return d;
}

InferenceServer::InferenceServer(Predictor& predictor, const ServerOptions& options)
    : impl_(std::make_unique<Impl>(predictor, options)) {}

InferenceServer::~InferenceServer() {
  stop();
  impl_->batcher.stop();
}

int InferenceServer::bind() { return impl_->http.bind(); }

void InferenceServer::run() { impl_->http.run(); }

void InferenceServer::stop() { impl_->http.stop(); }

int InferenceServer::port() const { return impl_->http.port(); }

std::string InferenceServer::url() const {
  return "http://" + impl_->options.host + ":" + std::to_string(impl_->http.port());
}

int InferenceServer::max_connections() const { return impl_->http.max_connections(); }

BatcherStats InferenceServer::stats() const { return impl_->batcher.stats(); }

HttpServerStats InferenceServer::http_stats() const { return impl_->http.stats(); }

}  // namespace convoy::serve
