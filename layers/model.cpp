#include "layers/model.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "engine/error.h"
#include "engine/rng.h"
#include "kernels/elementwise.h"
#include "layers/activation_layers.h"
#include "layers/batchnorm_layer.h"
#include "layers/builtin_models.h"
#include "layers/conv2d_layer.h"
#include "layers/linear_layer.h"
#include "layers/pool_layers.h"
#include "layers/shape_layers.h"

namespace convoy {
namespace {

using nlohmann::json;

int get_int(const json& j, const char* key, int fallback, const std::string& where) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_number_integer()) fail(where, ": '", key, "' must be an integer, got ", j[key].dump());
  return j[key].get<int>();
}

bool get_bool(const json& j, const char* key, bool fallback, const std::string& where) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_boolean()) fail(where, ": '", key, "' must be true or false, got ", j[key].dump());
  return j[key].get<bool>();
}

const char* kLayerTypes = "conv2d, batchnorm, relu, gelu, maxpool, avgpool, flatten, linear, scale, residual";

std::unique_ptr<SequentialLayer> build_sequence(const json& layers, Shape& shape, const std::string& where);

// Builds one layer for input `shape` and advances `shape` to its output.
std::unique_ptr<Layer> build_layer(const json& j, Shape& shape, const std::string& where) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    fail(where, ": each layer must be an object with a \"type\" (one of ", kLayerTypes, ")");
  const std::string type = j["type"];
  std::unique_ptr<Layer> layer;
  if (type == "conv2d") {
    if (shape.rank() != 4) fail(where, ": conv2d needs an image input, got ", shape.to_string());
    Conv2dConfig c;
    c.in_channels = static_cast<int>(shape[1]);
    c.out_channels = get_int(j, "out", 0, where);
    c.kernel = get_int(j, "kernel", 3, where);
    c.stride = get_int(j, "stride", 1, where);
    c.pad = get_int(j, "pad", c.kernel / 2, where);
    c.bias = get_bool(j, "bias", true, where);
    layer = std::make_unique<Conv2dLayer>(c);
  } else if (type == "batchnorm") {
    BatchNormConfig c;
    c.channels = static_cast<int>(shape[1]);
    c.relu = get_bool(j, "relu", false, where);
    if (j.contains("eps")) c.eps = j["eps"].get<float>();
    if (j.contains("momentum")) c.momentum = j["momentum"].get<float>();
    layer = std::make_unique<BatchNormLayer>(c);
  } else if (type == "relu") {
    layer = std::make_unique<ReluLayer>();
  } else if (type == "gelu") {
    layer = std::make_unique<GeluLayer>();
  } else if (type == "maxpool" || type == "avgpool") {
    PoolConfig c;
    c.kind = type == "maxpool" ? kernels::PoolKind::max : kernels::PoolKind::avg;
    c.global = get_bool(j, "global", false, where);
    c.kernel = get_int(j, "kernel", 2, where);
    c.stride = get_int(j, "stride", c.kernel, where);
    c.pad = get_int(j, "pad", 0, where);
    layer = std::make_unique<PoolLayer>(c);
  } else if (type == "flatten") {
    layer = std::make_unique<FlattenLayer>();
  } else if (type == "linear") {
    LinearConfig c;
    c.in_features = static_cast<int>(shape.numel() / shape[0]);
    c.out_features = get_int(j, "out", 0, where);
    c.bias = get_bool(j, "bias", true, where);
    layer = std::make_unique<LinearLayer>(c);
  } else if (type == "scale") {
    if (!j.contains("factor") || !j["factor"].is_number()) fail(where, ": scale needs a numeric \"factor\"");
    layer = std::make_unique<ScaleLayer>(j["factor"].get<float>());
  } else if (type == "residual") {
    if (!j.contains("layers") || !j["layers"].is_array()) fail(where, ": residual needs a \"layers\" array");
    Shape inner = shape;
    layer = std::make_unique<ResidualLayer>(build_sequence(j["layers"], inner, where + " residual"));
  } else {
    fail(where, ": unknown layer type '", type, "' (known: ", kLayerTypes, ")");
  }
  try {
    shape = layer->output_shape(shape);
  } catch (const Error& e) {
    fail(where, " (", type, "): ", e.what());
  }
  return layer;
}

std::unique_ptr<SequentialLayer> build_sequence(const json& layers, Shape& shape, const std::string& where) {
  auto seq = std::make_unique<SequentialLayer>();
  for (std::size_t i = 0; i < layers.size(); ++i)
    seq->add(build_layer(layers[i], shape, where + " layer " + std::to_string(i)));
  return seq;
}

}  // namespace

std::vector<std::string> Model::builtin_names() {
  std::vector<std::string> names;
  for (const auto& [name, text] : builtin_model_configs()) names.push_back(name);
  return names;
}

Model Model::from_spec(const std::string& spec) {
  for (const auto& [name, text] : builtin_model_configs())
    if (name == spec) return from_config(json::parse(text), "built-in model '" + name + "'");
  std::ifstream in(spec);
  if (!in) {
    std::string names;
    for (const auto& n : builtin_names()) names += (names.empty() ? "" : ", ") + n;
    fail_option("model", "'", spec, "': neither a built-in model (", names, ") nor a readable JSON file");
  }
  json config;
  try {
    config = json::parse(in);
  } catch (const json::exception& e) {
    fail("model config ", spec, ": not valid JSON: ", e.what());
  }
  return from_config(config, spec);
}

// A function-try-block: a field of the wrong JSON type anywhere in the config (a model file's
// header is untrusted input) becomes a convoy::Error naming the origin, not a json exception.
Model Model::from_config(const json& config, const std::string& origin) try {
  Model m;
  if (!config.is_object() || !config.contains("layers") || !config["layers"].is_array())
    fail(origin, ": a model config is a JSON object with a \"layers\" array");
  m.config_ = config;
  m.name_ = config.value("name", std::string("custom"));
  if (config.contains("input")) {
    const auto& in = config["input"];
    if (!in.is_array() || in.size() != 3) fail(origin, ": \"input\" must be [channels, height, width]");
    for (int i = 0; i < 3; ++i) {
      m.input_[i] = in[i].get<int64_t>();
      if (m.input_[i] < 1 || m.input_[i] > 4096)
        fail(origin, ": \"input\" sizes must be 1..4096, got ", in.dump());
    }
  }
  Shape shape = m.input_shape(1);
  m.net_ = build_sequence(config["layers"], shape, origin);
  if (shape.rank() != 2) fail(origin, ": the network must end in (N, classes), it ends in ", shape.to_string());
  m.num_classes_ = static_cast<int>(shape[1]);
  int declared = config.value("classes", m.num_classes_);
  if (declared != m.num_classes_)
    fail(origin, ": \"classes\" is ", declared, " but the last layer has ", m.num_classes_, " outputs");
  m.net_->name_params("");
  return m;
} catch (const json::exception& e) {
  fail(origin, ": bad model config: ", e.what());
}

void Model::init_params(uint64_t seed) {
  auto ps = params();
  for (std::size_t i = 0; i < ps.size(); ++i) {
    Param& p = *ps[i];
    Tensor host(p.value.shape());
    float* v = host.data();
    if (p.init == Init::ones || p.init == Init::zeros) {
      for (int64_t k = 0; k < host.numel(); ++k) v[k] = p.init == Init::ones ? 1.0f : 0.0f;
    } else {
      const float bound = 1.0f / std::sqrt(static_cast<float>(p.fan_in));
      Rng rng(seed, 0x1000 + i);  // one stream per parameter tensor
      for (int64_t k = 0; k < host.numel(); ++k) v[k] = (2.0f * rng.uniform_at(k) - 1.0f) * bound;
    }
    p.value.copy_from(host);
  }
}

void Model::to(Device device) {
  net_->to(device);
  device_ = device;
}

void Model::forward(Context& ctx, const Tensor& x, Tensor& logits, Saved* saved) {
  const Shape& in = x.shape();
  if (in.rank() != 4 || in[1] != input_[0] || in[2] != input_[1] || in[3] != input_[2])
    fail("model ", name_, ": expects input (N, ", input_[0], ", ", input_[1], ", ", input_[2], "), got ",
         in.to_string());
  net_->forward(ctx, x, logits, saved);
}

void Model::backward(Context& ctx, const Tensor& dlogits, const Saved& saved) {
  net_->backward(ctx, dlogits, saved, nullptr);
}

void Model::zero_grad(Context& ctx) {
  for (Param* p : params()) {
    if (!p->grad.defined() || !(p->grad.device() == p->value.device()))
      p->grad = Tensor(p->value.shape(), p->value.device());
    kernels::fill(ctx.exec, p->grad.numel(), 0.0f, p->grad.data());
  }
}

int64_t Model::num_params() {
  int64_t n = 0;
  for (Param* p : params()) n += p->value.numel();
  return n;
}

std::string Model::summary() {
  std::ostringstream os;
  Shape s = input_shape(1);
  os << name_ << ": input " << s.to_string() << ", " << num_params() << " parameters\n";
  for (std::size_t i = 0; i < net_->layers().size(); ++i) {
    const auto& l = net_->layers()[i];
    s = l->output_shape(s);
    os << "  " << i << " " << l->type() << " -> " << s.to_string() << "\n";
  }
  return os.str();
}

}  // namespace convoy
