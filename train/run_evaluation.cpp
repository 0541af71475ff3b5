#include "train/run_evaluation.h"

#include <cstdio>
#include <string>

#include "data/sources.h"
#include "engine/context.h"
#include "engine/error.h"
#include "engine/threads.h"
#include "train/model_io.h"

namespace convoy {

EvalRun run_evaluation(const EvalRunOptions& options) {
  set_num_threads(usable_threads(options.threads));
  const Device device = parse_device(options.device);
  require_usable(device);
  Model model = load_model(options.model_path);
  model.to(device);
  data::LoadOptions load;
  const data::CifarData data =
      data::load_cifar(options.data_spec.empty() ? data::default_data_spec() : options.data_spec, load);
  if (data.test.size() == 0) fail(data.source, ": no test images");
  Context ctx = Context::make(device);
  EvalRun run;
  run.model_path = options.model_path;
  run.data_source = data.source;
  run.synthetic_data = data.synthetic;
  run.flip_tta = options.eval.flip_tta;
  run.class_names = model.class_names.empty() ? data.test.class_names : model.class_names;
  for (int k = static_cast<int>(run.class_names.size()); k < model.num_classes(); ++k)
    run.class_names.push_back(std::to_string(k));
  run.result = evaluate(model, ctx, data.test, options.eval);
  return run;
}

nlohmann::json EvalRun::to_json() const {
  return {{"model", model_path},
          {"data", data_source},
          {"test_acc", result.accuracy},
          {"test_loss", result.loss},
          {"images", result.count},
          {"classes", class_names},
          {"per_class_accuracy", result.per_class_accuracy},
          {"confusion", result.confusion},
          {"synthetic_data", synthetic_data},
          {"tta", flip_tta ? "flip" : "none"}};
}

std::string EvalRun::to_text() const {
  std::string out;
  char line[256];
  auto add = [&](const char* fmt, auto... args) {
    std::snprintf(line, sizeof line, fmt, args...);
    out += line;
  };
  const int K = static_cast<int>(result.per_class_accuracy.size());
  add("%stest_acc=%.4f test_loss=%.4f images=%lld%s\n", synthetic_data ? "[synthetic data] " : "", result.accuracy,
      result.loss, static_cast<long long>(result.count), flip_tta ? " tta=flip" : "");
  add("\nper-class accuracy\n");
  for (int k = 0; k < K; ++k) add("  %-12s %.4f\n", class_names[k].c_str(), result.per_class_accuracy[k]);
  add("\nconfusion matrix (rows: true class, columns: predicted)\n%12s", "");
  for (int k = 0; k < K; ++k) add(" %6.6s", class_names[k].c_str());
  add("\n");
  for (int i = 0; i < K; ++i) {
    add("  %-10.10s", class_names[i].c_str());
    for (int j = 0; j < K; ++j) add(" %6lld", static_cast<long long>(result.confusion[i][j]));
    add("\n");
  }
  return out;
}

}  // namespace convoy
