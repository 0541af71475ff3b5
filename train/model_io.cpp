#include "train/model_io.h"

#include <cmath>

#include "engine/error.h"
#include "engine/model_file.h"
#include "train/finite_check.h"

namespace convoy {
namespace {

void assign_tensors(const std::string& path, const ModelFile& mf, Model& model) {
  auto restore = [&](const std::string& name, Tensor& dst) {
    const Tensor* src = mf.find(name);
    if (!src) fail(path, ": tensor '", name, "' is missing (the file does not match the model '", model.name(), "')");
    if (!(src->shape() == dst.shape()))
      fail(path, ": tensor '", name, "' has shape ", src->shape().to_string(), ", the model needs ",
           dst.shape().to_string());
    dst.copy_from(*src);
  };
  for (Param* p : model.params()) restore(p->name, p->value);
  for (Buffer& b : model.buffers()) restore(b.name, *b.value);
  // A diverged run's weights pass every checksum; they are refused here, by name.
  if (std::string what = first_non_finite(model); !what.empty())
    fail(path, ": ", what, ": the model holds non-finite weights (its training diverged) and cannot be used");
}

}  // namespace

void save_model(const std::string& path, Model& model, const nlohmann::json& meta) {
  nlohmann::json header;
  header["format"] = "convoy-model";
  header["config"] = model.config();
  header["classes"] = model.class_names;
  header["normalization"] = {{"mean", {model.mean[0], model.mean[1], model.mean[2]}},
                             {"std", {model.std[0], model.std[1], model.std[2]}},
                             {"units", "0-255"}};
  header["meta"] = meta;
  std::vector<NamedTensor> tensors;
  for (Param* p : model.params()) tensors.push_back({p->name, p->value});
  for (Buffer& b : model.buffers()) tensors.push_back({b.name, *b.value});
  write_model_file(path, header, tensors);
}

Model load_model(const std::string& path) {
  ModelFile mf = read_model_file(path);
  if (mf.header.value("format", std::string()) != "convoy-model" || !mf.header.contains("config"))
    fail(path, ": not a convoy model (no model config in its header)");
  Model model = Model::from_config(mf.header["config"], path);
  assign_tensors(path, mf, model);
  // The header is untrusted: a field of the wrong JSON type is a convoy::Error, like any damage.
  try {
    if (mf.header.contains("classes")) model.class_names = mf.header["classes"].get<std::vector<std::string>>();
    if (mf.header.contains("normalization")) {
      auto mean = mf.header["normalization"].at("mean").get<std::vector<float>>();
      auto stdv = mf.header["normalization"].at("std").get<std::vector<float>>();
      if (mean.size() != 3 || stdv.size() != 3) fail(path, ": normalisation constants must have 3 channels");
      for (int c = 0; c < 3; ++c) {
        if (!std::isfinite(mean[c])) fail(path, ": normalisation mean of channel ", c, " is not finite");
        if (!(std::isfinite(stdv[c]) && stdv[c] > 0))
          fail(path, ": normalisation std of channel ", c, " is ", stdv[c], "; it must be positive and finite");
        model.mean[c] = mean[c];
        model.std[c] = stdv[c];
      }
    }
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": bad class names or normalisation in the header: ", e.what());
  }
  return model;
}

void load_model_weights(const std::string& path, Model& model) {
  ModelFile mf = read_model_file(path);
  assign_tensors(path, mf, model);
}

}  // namespace convoy
