// convoy-eval: flags -> EvalRunOptions -> convoy::run_evaluation; prints the result and
// writes it as JSON on request.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "engine/model_file.h"
#include "tools/cli_checks.h"
#include "tools/tool_main.h"
#include "train/run_evaluation.h"

int run_tool(int argc, char** argv) {
  convoy::EvalRunOptions o;
  o.eval.progress = true;
  std::string json_out;
  CLI::App app{"Evaluate a trained convoy model on the CIFAR-10 test set: accuracy, per-class accuracy and the "
               "confusion matrix."};
  app.add_option("--model", o.model_path, "A model file written by convoy-train (model.convoy)")->required();
  app.add_option("--data", o.data_spec, "CIFAR-10 source, as for convoy-train (default $CONVOY_DATA, else ./data/)");
  app.add_option("--device", o.device, "cpu | cuda | cuda:N | auto")->capture_default_str();
  app.add_option("--threads", o.threads, "CPU threads (0 = all)")->capture_default_str()->check(convoy::tools::non_negative());
  app.add_option("--batch-size", o.eval.batch_size, "Images per forward pass")
      ->capture_default_str()->check(convoy::tools::positive());
  app.add_flag("--tta", o.eval.flip_tta, "Test-time augmentation: average the logits of each image and its mirror image");
  app.add_option("--json", json_out, "Also write the results as JSON to this file");
  CONVOY_PARSE(app, argc, argv);

  const convoy::EvalRun run = convoy::run_evaluation(o);
  std::fputs(run.to_text().c_str(), stdout);
  // Written whole or not at all; a folder that does not exist is an error naming the file.
  if (!json_out.empty()) convoy::write_file_atomically(json_out, run.to_json().dump(2) + "\n");
  return 0;
}
