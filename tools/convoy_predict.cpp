// convoy-predict: offline batch prediction, one JSON line per input image in input order, the
// same per-image shape as the endpoint's answer (serve/answer_json.h).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "engine/device.h"
#include "engine/error.h"
#include "engine/threads.h"
#include "serve/answer_json.h"
#include "serve/predict_inputs.h"
#include "serve/predictor.h"
#include "tools/cli_checks.h"
#include "tools/tool_main.h"

int run_tool(int argc, char** argv) {
  std::string model_path, input, out_path, device = "auto";
  int threads = 0, batch_size = 256, top_k = 5;
  CLI::App app{"Predict classes for a CIFAR-10 batch file, a folder of JPEG/PNG images or a JSON-lines file; "
               "writes one JSON line per image."};
  app.add_option("--model", model_path, "A model.convoy file, or a folder holding one")->required();
  app.add_option("--input", input,
                 "CIFAR-10 binary batch file (.bin), folder of images, or JSON-lines file (.jsonl: one image or "
                 "{\"instances\": [...]} per line)")
      ->required();
  app.add_option("--out", out_path, "Write the JSON lines here (default: stdout)");
  app.add_option("--device", device, "cpu | cuda | cuda:N | auto")->capture_default_str();
  app.add_option("--threads", threads, "CPU threads (0 = all)")->capture_default_str();
  app.add_option("--batch-size", batch_size, "Images per forward pass")->capture_default_str()->check(CLI::Range(1, 4096));
  app.add_option("--top-k", top_k, "Classes listed per image")->capture_default_str()->check(CLI::Range(1, 1000));
  CONVOY_PARSE(app, argc, argv);

  convoy::set_num_threads(convoy::usable_threads(threads));
  convoy::serve::PredictorOptions po;
  po.device = convoy::parse_device(device);
  po.top_k = top_k;
  po.max_forward_batch = batch_size;
  auto predictor = convoy::serve::Predictor::load(model_path, po);
  const convoy::serve::PredictInputs in = convoy::serve::read_predict_inputs(input);
  const auto predictions = predictor->predict(in.images.data(), in.count);

  std::ofstream file;
  if (!out_path.empty()) {
    file.open(out_path);
    if (!file) convoy::fail("--out ", out_path, ": cannot open for writing");
  }
  std::ostream& out = out_path.empty() ? std::cout : file;
  int64_t correct = 0;
  for (int64_t i = 0; i < in.count; ++i) {
    nlohmann::json j = convoy::serve::prediction_json(predictions[i]);
    if (!in.names.empty()) j["file"] = in.names[i];
    out << j.dump() << "\n";
    if (!in.labels.empty() && predictions[i].top.front().index == in.labels[i]) ++correct;
  }
  out.flush();
  if (!out) convoy::fail(out_path.empty() ? "stdout" : out_path, ": write failed");
  std::fprintf(stderr, "convoy-predict: %lld images from %s (%s) on %s\n", static_cast<long long>(in.count),
               input.c_str(), in.kind.c_str(), predictor->device().to_string().c_str());
  if (!in.labels.empty())
    std::fprintf(stderr, "accuracy=%.4f correct=%lld images=%lld\n", static_cast<double>(correct) / in.count,
                 static_cast<long long>(correct), static_cast<long long>(in.count));
  return 0;
}
