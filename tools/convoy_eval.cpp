// convoy-eval: test accuracy, per-class accuracy and the confusion matrix of a saved model.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "data/sources.h"
#include "engine/context.h"
#include "engine/error.h"
#include "engine/threads.h"
#include "tools/tool_main.h"
#include "train/evaluate.h"
#include "train/model_io.h"

int run_tool(int argc, char** argv) {
  std::string model_path, data_spec, device = "cpu", json_out;
  int threads = 0, batch_size = 500;
  bool tta = false;
  CLI::App app{"Evaluate a trained convoy model on the CIFAR-10 test set."};
  app.add_option("--model", model_path, "A model file written by convoy-train (model.convoy)")->required();
  app.add_option("--data", data_spec, "CIFAR-10 source, as for convoy-train (default $CONVOY_DATA, else ./data/)");
  app.add_option("--device", device, "cpu | cuda | cuda:N | auto")->capture_default_str();
  app.add_option("--threads", threads, "CPU threads (0 = all)")->capture_default_str();
  app.add_option("--batch-size", batch_size, "Images per forward pass")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_flag("--tta", tta, "Test-time augmentation: average the logits of each image and its mirror image");
  app.add_option("--json", json_out, "Also write the results as JSON to this file");
  CLI11_PARSE(app, argc, argv);

  convoy::set_num_threads(threads);
  convoy::Device dev = convoy::parse_device(device);
  if (dev.is_cuda() && convoy::cuda_device_count() <= dev.index)
    convoy::fail("--device ", device, ": no usable CUDA device (", convoy::cuda_unavailable_reason(), ")");
  convoy::Model model = convoy::load_model(model_path);
  model.to(dev);
  convoy::data::LoadOptions lo;
  auto data = convoy::data::load_cifar(data_spec.empty() ? convoy::data::default_data_spec() : data_spec, lo);
  if (data.test.size() == 0) convoy::fail(data.source, ": no test images");
  convoy::Context ctx = convoy::Context::make(dev);
  convoy::EvalOptions eo;
  eo.batch_size = batch_size;
  eo.progress = true;
  eo.flip_tta = tta;
  auto r = convoy::evaluate(model, ctx, data.test, eo);

  const auto& names = model.class_names.empty() ? data.test.class_names : model.class_names;
  const int K = model.num_classes();
  std::printf("%stest_acc=%.4f test_loss=%.4f images=%lld%s\n", data.synthetic ? "[synthetic data] " : "", r.accuracy,
              r.loss, static_cast<long long>(r.count), tta ? " tta=flip" : "");
  std::printf("\nper-class accuracy\n");
  for (int k = 0; k < K; ++k)
    std::printf("  %-12s %.4f\n", k < static_cast<int>(names.size()) ? names[k].c_str() : std::to_string(k).c_str(),
                r.per_class_accuracy[k]);
  std::printf("\nconfusion matrix (rows: true class, columns: predicted)\n%12s", "");
  for (int k = 0; k < K; ++k) std::printf(" %6.6s", k < static_cast<int>(names.size()) ? names[k].c_str() : "?");
  std::printf("\n");
  for (int i = 0; i < K; ++i) {
    std::printf("  %-10.10s", i < static_cast<int>(names.size()) ? names[i].c_str() : "?");
    for (int j = 0; j < K; ++j) std::printf(" %6lld", static_cast<long long>(r.confusion[i][j]));
    std::printf("\n");
  }
  if (!json_out.empty()) {
    nlohmann::json j = {{"model", model_path},        {"data", data.source},       {"test_acc", r.accuracy},
                        {"test_loss", r.loss},        {"images", r.count},         {"classes", names},
                        {"per_class_accuracy", r.per_class_accuracy}, {"confusion", r.confusion},
                        {"synthetic_data", data.synthetic}, {"tta", tta ? "flip" : "none"}};
    std::ofstream(json_out) << j.dump(2) << "\n";
  }
  return 0;
}
