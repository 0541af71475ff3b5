#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <ostream>

#include "data/batch_loader.h"
#include "data/sources.h"
#include "engine/error.h"
#include "engine/model_file.h"
#include "engine/allocator.h"
#include "engine/progress.h"
#include "engine/threads.h"
#include "train/batch_loss.h"
#include "train/device_input.h"
#include "train/evaluate.h"
#include "train/machine_info.h"
#include "train/model_io.h"

namespace convoy {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

}  // namespace

nlohmann::json EpochMetrics::to_json() const {
  return {{"epoch", epoch},         {"train_loss", train_loss}, {"train_acc", train_acc},
          {"test_loss", test_loss}, {"test_acc", test_acc},     {"images_per_sec", images_per_sec},
          {"epoch_s", epoch_s},     {"elapsed_s", elapsed_s},   {"lr", lr}};
}

std::string EpochMetrics::to_line() const {
  return "epoch=" + std::to_string(epoch) + " train_loss=" + fixed(train_loss, 4) + " train_acc=" +
         fixed(train_acc, 4) + " test_loss=" + fixed(test_loss, 4) + " test_acc=" + fixed(test_acc, 4) +
         " images_per_sec=" + fixed(images_per_sec, 1) + " elapsed_s=" + fixed(elapsed_s, 1);
}

std::vector<EpochMetrics> train_model(Model& model, Context& ctx, const data::CifarData& data,
                                      const TrainOptions& o, const TrainCallbacks& callbacks) {
  if (o.epochs <= 0) fail("--epochs must be positive, got ", o.epochs);
  if (o.batch_size <= 0) fail("--batch-size must be positive, got ", o.batch_size);
  if (data.train.size() < o.batch_size)
    fail("the training set has ", data.train.size(), " images, fewer than one batch of ", o.batch_size);
  o.schedule.validate();

  data::LoaderOptions lo;
  lo.batch_size = o.batch_size;
  lo.shuffle = true;
  lo.drop_last = true;
  lo.augment = o.augment;
  lo.crop_pad = o.crop_pad;
  lo.flip = o.flip;
  lo.cutout = o.cutout;
  lo.seed = o.seed;
  for (int c = 0; c < 3; ++c) {
    lo.stats.mean[c] = model.mean[c];
    lo.stats.std[c] = model.std[c];
  }
  lo.normalize_on_host = ctx.device.is_cpu() || o.host_input;
  data::BatchLoader loader(data.train, lo);
  DeviceInput input;
  const kernels::AugmentArgs augment = augment_args_for(lo);
  const int64_t steps_per_epoch = loader.batches_per_epoch();
  const int64_t total_steps = steps_per_epoch * o.epochs;

  SgdOptimizer optimizer(model, o.sgd);
  Tensor x, logits, dlogits, labels_dev;
  BatchLoss loss;
  data::Batch batch;
  std::vector<EpochMetrics> history;
  const auto start = Clock::now();
  int64_t step = 0;
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    loader.start_epoch(static_cast<uint64_t>(epoch));
    ProgressBar bar("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(o.epochs), steps_per_epoch,
                    o.progress);
    const auto epoch_start = Clock::now();
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    double lr = 0;
    ctx.training = true;
    while (loader.next(batch)) {
      const int N = batch.size;
      input.upload(ctx, batch, augment, x, labels_dev);

      Saved saved;
      ctx.step = static_cast<uint64_t>(step);
      model.zero_grad(ctx);
      model.forward(ctx, x, logits, &saved);
      const BatchScore score = loss.compute(ctx, logits, labels_dev, batch.labels, o.label_smoothing, &dlogits);
      model.backward(ctx, dlogits, saved);
      lr = static_cast<float>(lr_at(o.schedule, step, total_steps, steps_per_epoch));
      optimizer.step(ctx, static_cast<float>(lr));
      loss_sum += score.loss_sum;
      correct += score.correct;
      seen += N;
      ++step;
      bar.update(batch.index + 1, "loss " + fixed(loss_sum / seen, 3) + " acc " + fixed(double(correct) / seen, 3));
    }
    bar.finish();
    EpochMetrics m;
    m.epoch = epoch + 1;
    m.epoch_s = seconds_since(epoch_start);
    m.train_loss = seen ? loss_sum / seen : 0;
    m.train_acc = seen ? double(correct) / seen : 0;
    m.images_per_sec = m.epoch_s > 0 ? seen / m.epoch_s : 0;
    m.lr = lr;
    if (data.test.size() > 0) {
      EvalResult e = evaluate(model, ctx, data.test, o.eval_batch_size, o.progress, o.host_input);
      m.test_loss = e.loss;
      m.test_acc = e.accuracy;
    }
    m.elapsed_s = seconds_since(start);
    history.push_back(m);
    if (callbacks.on_epoch) callbacks.on_epoch(m);
  }
  ctx.training = false;
  return history;
}

nlohmann::json run_training(const TrainRunOptions& opt, std::ostream& metrics_out, std::ostream& log) {
  set_num_threads(opt.threads);
  const int threads = num_threads();
  Device device = parse_device(opt.device);
  if (device.is_cuda() && cuda_device_count() <= device.index)
    fail("--device ", opt.device, ": no usable CUDA device (", cuda_unavailable_reason(), "); use --device cpu");
  kernels::Impl impl;
  if (opt.kernels == "own") impl = kernels::Impl::own;
  else if (opt.kernels == "vendor") impl = kernels::Impl::vendor;
  else fail("--kernels '", opt.kernels, "': use own or vendor");

  std::filesystem::create_directories(opt.out_dir);
  const auto t0 = Clock::now();
  data::LoadOptions load;
  load.train_batches = opt.train_batches;
  const std::string spec = opt.data_spec.empty() ? data::default_data_spec() : opt.data_spec;
  data::CifarData data = data::load_cifar(spec, load);
  const std::string tag = data.synthetic ? " data=synthetic" : "";
  log << (data.synthetic ? "[synthetic data] " : "") << "data: " << data.source << ": " << data.train.size()
      << " training and " << data.test.size() << " test images (" << std::fixed;
  log.precision(1);
  log << seconds_since(t0) << " s to load)\n";

  Model model = Model::from_spec(opt.model_spec);
  if (static_cast<size_t>(model.num_classes()) != data.train.class_names.size())
    fail("--model ", opt.model_spec, " has ", model.num_classes(), " outputs but the data (", data.source, ") has ",
         data.train.class_names.size(), " classes");
  model.class_names = data.train.class_names;
  model.init_params(opt.train.seed);
  model.to(device);
  Context ctx = Context::make(device, impl);
  ctx.seed = opt.train.seed;
  log << (data.synthetic ? "[synthetic data] " : "") << "model: " << model.name() << ", " << model.num_params()
      << " parameters; device " << device.to_string() << ", " << threads << " threads, kernels " << opt.kernels
      << "\n";
  log.flush();

  nlohmann::json report;
  report["data"] = {{"source", data.source},
                    {"spec", spec},
                    {"synthetic", data.synthetic},
                    {"train_images", data.train.size()},
                    {"test_images", data.test.size()},
                    {"train_batches", opt.train_batches}};
  report["model"] = {{"name", model.name()}, {"spec", opt.model_spec}, {"parameters", model.num_params()},
                     {"config", model.config()}};
  nlohmann::json schedule;
  to_json(schedule, opt.train.schedule);
  const TrainOptions& t = opt.train;
  report["hyperparameters"] = {{"epochs", t.epochs},
                               {"batch_size", t.batch_size},
                               {"lr", t.schedule.lr},
                               {"schedule", schedule},
                               {"momentum", t.sgd.momentum},
                               {"nesterov", t.sgd.nesterov},
                               {"weight_decay", t.sgd.weight_decay},
                               {"label_smoothing", t.label_smoothing},
                               {"augment", t.augment},
                               {"crop_pad", t.crop_pad},
                               {"flip", t.flip},
                               {"cutout", t.cutout},
                               {"seed", t.seed},
                               {"threads", threads},
                               {"kernels", opt.kernels}};
  report["machine"] = machine_info(device, threads);
  report["epochs"] = nlohmann::json::array();

  TrainCallbacks cb;
  cb.on_epoch = [&](const EpochMetrics& m) {
    metrics_out << m.to_line() << tag << std::endl;  // flushed per line (SageMaker metric regexes)
    report["epochs"].push_back(m.to_json());
  };
  auto history = train_model(model, ctx, data, opt.train, cb);

  const std::string model_path = (std::filesystem::path(opt.out_dir) / "model.convoy").string();
  save_model(model_path, model, {{"trained_epochs", t.epochs}, {"seed", t.seed}, {"synthetic_data", data.synthetic}});
  const EpochMetrics& last = history.back();
  report["final"] = {{"test_acc", last.test_acc},
                     {"test_loss", last.test_loss},
                     {"train_acc", last.train_acc},
                     {"total_s", seconds_since(t0)},
                     {"training_s", last.elapsed_s}};
  report["model_path"] = model_path;
  write_file_atomically((std::filesystem::path(opt.out_dir) / "report.json").string(), report.dump(2) + "\n");
  log << (data.synthetic ? "[synthetic data] " : "") << "wrote " << model_path << " and "
      << (std::filesystem::path(opt.out_dir) / "report.json").string() << "; final test_acc "
      << std::setprecision(4) << last.test_acc << "\n";
  return report;
}

}  // namespace convoy
