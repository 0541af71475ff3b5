// run_training(): the whole run around the Trainer loop: data, model, resume from a
// checkpoint, checkpoints every N steps and at epoch ends, metrics.jsonl, the epoch line,
// report.json and model.convoy.
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <memory>
#include <ostream>
#include <sstream>

#include "data/sources.h"
#include "dist/communicator.h"
#include "engine/error.h"
#include "engine/model_file.h"
#include "engine/threads.h"
#include "train/checkpoint.h"
#include "train/finite_check.h"
#include "train/machine_info.h"
#include "train/metrics_log.h"
#include "train/model_io.h"
#include "train/trainer.h"

namespace convoy {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// What a resume must repeat and what it may change, named as TrainRunOptions names them
// (a tool prints its flag for each: batch_size is --batch-size).
RunFingerprint run_fingerprint(const TrainRunOptions& opt, Model& model, const data::CifarData& data,
                               const std::string& spec, int threads) {
  const TrainOptions& t = opt.train;
  nlohmann::json schedule;
  to_json(schedule, t.schedule);
  RunFingerprint f;
  f.must_match = {{"model", model.config()},
                  {"epochs", t.epochs},
                  {"batch_size", t.batch_size},
                  {"seed", t.seed},
                  {"lr", t.schedule.lr},
                  {"schedule", schedule},
                  {"momentum", t.sgd.momentum},
                  {"no_nesterov", !t.sgd.nesterov},
                  {"weight_decay", t.sgd.weight_decay},
                  {"weight decay on batch-norm", t.sgd.decay_batchnorm},
                  {"label_smoothing", t.label_smoothing},
                  {"no_augment", !t.augment},
                  {"crop padding", t.crop_pad},
                  {"horizontal flip", t.flip},
                  {"cutout", t.cutout},
                  {"train_batches", opt.train_batches},
                  {"training images", data.train.size()},
                  {"classes", data.train.class_names}};
  f.may_differ = {{"threads", threads},
                  {"device", opt.device},
                  {"kernels", opt.kernels},
                  {"host_input", t.host_input},
                  {"grad_compression", dist::to_string(t.parallel.compression)},
                  {"data", spec}};
  return f;
}

// Restores model, optimizer and trainer from the newest checkpoint under opt.resume_dir.
// A corrupt newest checkpoint is an error: an older one is never used behind the user's back.
Checkpoint resume(const TrainRunOptions& opt, Model& model, Trainer& trainer, const RunFingerprint& now,
                   std::ostream& log) {
  const CheckpointFile latest = latest_checkpoint(opt.resume_dir);
  Checkpoint c;
  try {
    c = read_checkpoint(latest.path, model, trainer.optimizer());
  } catch (const Error& e) {
    const auto all = list_checkpoints(fs::path(latest.path).parent_path().string());
    std::string previous = all.size() >= 2 ? all[all.size() - 2].path : "";
    fail("cannot resume: the newest checkpoint is unusable: ", e.what(), ". convoy does not fall back to an older one by itself",
         previous.empty() ? std::string("; there is no older one: start a fresh run")
                          : "; to resume from the previous one, move " + latest.path + " away (it would resume from " +
                                previous + ")");
  }
  for (const std::string& w : check_resume_options(c.options, now, latest.path)) log << "warning: " << w << "\n";
  trainer.restore(c.state);
  log << "resuming from " << latest.path << ": epoch " << c.state.epoch + 1 << ", batch " << c.state.batch << "/"
      << trainer.steps_per_epoch() << ", step " << c.state.step << "\n";
  return c;
}

// What a run leaves in its folders: model.convoy, report.json, metrics.jsonl, checkpoints.
std::vector<std::string> run_files(const std::string& out_dir, const std::string& checkpoint_dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const char* name : {"model.convoy", "report.json", "metrics.jsonl"})
    if (const fs::path p = fs::path(out_dir) / name; fs::exists(p, ec)) found.push_back(p.string());
  for (const CheckpointFile& c : list_checkpoints(checkpoint_dir)) found.push_back(c.path);
  return found;
}

// A fresh run owns its folders: another run's files there are refused, or with overwrite
// removed, so that metrics.jsonl, report.json, model.convoy and the checkpoints all belong
// to one run.
void claim_folders(const TrainRunOptions& opt, const std::string& checkpoint_dir, std::ostream& log) {
  const std::vector<std::string> old = run_files(opt.out_dir, checkpoint_dir);
  if (old.empty()) return;
  if (!opt.overwrite) {
    std::string names;
    for (size_t i = 0; i < old.size() && i < 4; ++i) names += (i ? ", " : "") + old[i];
    if (old.size() > 4) names += ", ...";
    fail_option("out", opt.out_dir, " already holds another run (", names, "); train into a new folder, continue ",
                "that run with resume (--resume ", opt.out_dir, "), or replace it with overwrite (--overwrite)");
  }
  for (const std::string& f : old) {
    std::error_code ec;
    fs::remove(f, ec);
    if (ec) fail("cannot remove ", f, " of the previous run (overwrite): ", ec.message());
  }
  log << "overwrite: removed the previous run's " << old.size() << " files from " << opt.out_dir
      << (fs::path(checkpoint_dir).parent_path() == fs::path(opt.out_dir) ? std::string() : " and " + checkpoint_dir)
      << "\n";
}

// Swallows what non-zero ranks would print (only rank 0 prints and writes).
class NullStream : public std::ostream {
 public:
  NullStream() : std::ostream(nullptr) {}
};

// A hidden test hook (docs/distributed.md): CONVOY_TEST_FAIL_RANK=R gives rank R a data path
// that does not exist, so one rank fails the way a bad path on one host would.
std::string data_spec_for_rank(const std::string& spec, int rank) {
  const char* fail_rank = std::getenv("CONVOY_TEST_FAIL_RANK");
  if (fail_rank && std::to_string(rank) == fail_rank) return "/nonexistent/convoy-test-fail-rank-" + std::to_string(rank);
  return spec;
}

// Throws TrainingDiverged when a weight, a batch-norm statistic or a momentum buffer is no
// longer finite: such a state is never written as a checkpoint or a model.
void require_finite(Model& model, SgdOptimizer& optimizer, const TrainState& state, double lr) {
  std::string what = first_non_finite(model);
  const auto params = model.params();
  auto& momentum = optimizer.momentum_buffers();
  for (size_t i = 0; what.empty() && i < momentum.size() && i < params.size(); ++i)
    if (std::string e = non_finite_element(momentum[i]); !e.empty()) what = "momentum of '" + params[i]->name + "': " + e;
  if (what.empty()) return;
  std::ostringstream os;
  os << "training diverged at epoch " << state.epoch + (state.batch > 0 ? 1 : 0) << " step " << state.step << ": "
     << what << "; lower --lr (peak " << lr << ") or check --momentum and --weight-decay";
  throw TrainingDiverged(os.str());
}

// A hidden test hook (docs/distributed.md): CONVOY_TEST_STALL_RANK=R makes rank R stop itself
// (SIGSTOP) after its first step, as a paused or hung process would, so that the collective
// timeout can be seen ending the job.
bool stalls_here(int rank) {
  const char* stall_rank = std::getenv("CONVOY_TEST_STALL_RANK");
  return stall_rank && std::to_string(rank) == stall_rank;
}

}  // namespace

nlohmann::json run_training(const TrainRunOptions& opt, std::ostream& metrics_all, std::ostream& log_all) {
  set_num_threads(usable_threads(opt.threads));
  const int threads = num_threads();
  // Data-parallel: the communicator first (under mpirun this initialises MPI, so that a
  // failure from here on ends the whole job through tools/tool_main.cpp's MPI_Abort).
  const dist::LaunchInfo launch = dist::launch_info();
  Device device = dist::device_for_rank(parse_device(opt.device), opt.device.find(':') != std::string::npos, launch);
  if (!(std::isfinite(opt.collective_timeout_s) && opt.collective_timeout_s >= 0))
    fail_option("collective_timeout", opt.collective_timeout_s, " must be a finite number of seconds >= 0 (0 = no limit)");
  std::unique_ptr<dist::Communicator> comm = dist::make_communicator(opt.dist_backend, device);
  comm->set_timeout(opt.collective_timeout_s);
  const bool lead = comm->rank() == 0;  // rank 0 prints and writes; the others train
  NullStream quiet;
  std::ostream& log = lead ? log_all : quiet;
  std::ostream& metrics_out = lead ? metrics_all : quiet;
  require_usable(device);
  kernels::Impl impl;
  if (opt.kernels == "own") impl = kernels::Impl::own;
  else if (opt.kernels == "vendor") impl = kernels::Impl::vendor;
  else fail_option("kernels", "'", opt.kernels, "': use own or vendor");
  if (opt.checkpoint_every < 0) fail_option("checkpoint_every", opt.checkpoint_every, " must be >= 0 (0 = only at epoch ends)");
  if (opt.log_every < 0) fail_option("log_every", opt.log_every, " must be >= 0 (0 = no step records)");

  if (opt.overwrite && !opt.resume_dir.empty())
    fail_option("overwrite", "cannot be combined with resume: resume continues the run in ", opt.resume_dir,
                ", overwrite replaces it");
  if (lead && opt.resume_dir.empty())
    claim_folders(opt, opt.checkpoint_dir.empty() ? (fs::path(opt.out_dir) / "checkpoints").string() : opt.checkpoint_dir,
                  log);
  if (lead) fs::create_directories(opt.out_dir);
  const auto t0 = Clock::now();
  data::LoadOptions load;
  load.train_batches = opt.train_batches;
  const std::string spec = opt.data_spec.empty() ? data::default_data_spec() : opt.data_spec;
  data::CifarData data = data::load_cifar(data_spec_for_rank(spec, comm->rank()), load);
  const std::string tag = data.synthetic ? " data=synthetic" : "";
  const std::string note = data.synthetic ? "[synthetic data] " : "";
  log << note << "data: " << data.source << ": " << data.train.size() << " training and " << data.test.size()
      << " test images (" << std::fixed << std::setprecision(1) << seconds_since(t0) << " s to load)\n";

  Model model = Model::from_spec(opt.model_spec);
  if (static_cast<size_t>(model.num_classes()) != data.train.class_names.size())
    fail_option("model", opt.model_spec, " has ", model.num_classes(), " outputs but the data (", data.source, ") has ",
         data.train.class_names.size(), " classes");
  model.class_names = data.train.class_names;
  model.init_params(opt.train.seed);
  model.to(device);
  Context ctx = Context::make(device, impl);
  ctx.seed = opt.train.seed;
  log << note << "model: " << model.name() << ", " << model.num_params() << " parameters; device "
      << device.to_string() << ", " << threads << " threads, kernels " << opt.kernels << "\n";
  log.flush();

  TrainOptions t = opt.train;
  t.parallel.comm = comm.get();
  Trainer trainer(model, ctx, data, t);
  if (comm->world_size() > 1)
    log << "data-parallel: " << comm->world_size() << " ranks (" << comm->backend() << "), global batch "
        << t.batch_size << " = " << comm->world_size() << " x " << t.batch_size / comm->world_size()
        << " per rank; " << trainer.buckets()->layout().size() << " gradient buckets of <= " << t.parallel.bucket_mb
        << " MB" << (t.parallel.compression == dist::BucketCompression::none
                         ? std::string()
                         : std::string(" reduced in ") + dist::to_string(t.parallel.compression))
        << "; batch-norm statistics " << (t.parallel.sync_batchnorm ? "synchronised" : "per rank") << "\n";
  const RunFingerprint fingerprint = run_fingerprint(opt, model, data, spec, threads);
  std::string resumed_from, checkpoint_dir = opt.checkpoint_dir;
  // The run's identity: a fresh one, or the resumed checkpoint's (one from before run
  // identities gets a fresh one and keeps pruning the unmarked checkpoints it continues).
  std::string run_id;
  bool adopt_unmarked = false;
  if (!opt.resume_dir.empty()) {
    const Checkpoint c = resume(opt, model, trainer, fingerprint, log);
    resumed_from = c.path;
    run_id = c.run_id;
    adopt_unmarked = run_id.empty();
    if (checkpoint_dir.empty()) checkpoint_dir = fs::path(resumed_from).parent_path().string();
  }
  if (run_id.empty()) run_id = new_run_id();
  if (checkpoint_dir.empty()) checkpoint_dir = (fs::path(opt.out_dir) / "checkpoints").string();
  CheckpointWriter checkpoints(checkpoint_dir, opt.keep_checkpoints, run_id, adopt_unmarked);

  const std::string metrics_path = (fs::path(opt.out_dir) / "metrics.jsonl").string();
  const TrainState& state = trainer.state();
  std::unique_ptr<MetricsLog> metrics;
  if (lead)
    metrics = resumed_from.empty() ? std::make_unique<MetricsLog>(metrics_path)
                                   : std::make_unique<MetricsLog>(metrics_path, state.step, state.epoch);

  nlohmann::json report;
  report["run_id"] = run_id;
  report["data"] = {{"source", data.source},
                    {"spec", spec},
                    {"synthetic", data.synthetic},
                    {"train_images", data.train.size()},
                    {"test_images", data.test.size()},
                    {"train_batches", opt.train_batches}};
  report["model"] = {{"name", model.name()}, {"spec", opt.model_spec}, {"parameters", model.num_params()},
                     {"config", model.config()}};
  report["hyperparameters"] = recipe_json(t);
  report["hyperparameters"]["threads"] = threads;
  report["hyperparameters"]["kernels"] = opt.kernels;
  report["machine"] = machine_info(device, threads);
  report["distributed"] = {{"world_size", comm->world_size()},
                           {"backend", comm->backend()},
                           {"global_batch", t.batch_size},
                           {"per_rank_batch", t.batch_size / comm->world_size()},
                           {"bucket_mb", t.parallel.bucket_mb},
                           {"grad_compression", dist::to_string(t.parallel.compression)},
                           {"sync_batchnorm", t.parallel.sync_batchnorm},
                           {"evaluation", comm->world_size() > 1 ? "each rank its share, counts summed" : "one process"}};
  report["checkpoints"] = {{"dir", checkpoint_dir},
                           {"every_steps", opt.checkpoint_every},
                           {"keep", opt.keep_checkpoints},
                           {"resumed_from", resumed_from.empty() ? nlohmann::json() : nlohmann::json(resumed_from)}};

  int64_t last_checkpoint_step = resumed_from.empty() ? -1 : state.step;
  std::string last_checkpoint = resumed_from;
  auto checkpoint_now = [&] {
    if (!lead || state.step == last_checkpoint_step) return;
    require_finite(model, trainer.optimizer(), state, t.schedule.lr);
    last_checkpoint = checkpoints.write(model, trainer.optimizer(), state, fingerprint);
    last_checkpoint_step = state.step;
  };
  int64_t last_log_step = state.step;
  double last_log_elapsed = state.elapsed_s;
  TrainCallbacks cb;
  const bool stall = comm->world_size() > 1 && stalls_here(comm->rank());
  cb.on_step = [&](const TrainState& s) {
    if (stall && s.step == 1) std::raise(SIGSTOP);
    if (metrics && opt.log_every > 0 && s.step % opt.log_every == 0) {
      const double dt = s.elapsed_s - last_log_elapsed;
      metrics->step(s, dt > 0 ? double(s.step - last_log_step) * t.batch_size / dt : 0.0);
      last_log_step = s.step;
      last_log_elapsed = s.elapsed_s;
    }
    // The last step of an epoch is checkpointed at the epoch end, after evaluation.
    if (opt.checkpoint_every > 0 && s.step % opt.checkpoint_every == 0 && s.batch < trainer.steps_per_epoch())
      checkpoint_now();
  };
  cb.on_epoch = [&](const EpochMetrics& m) {
    metrics_out << m.to_line() << tag << std::endl;  // flushed per line (SageMaker metric regexes)
    if (metrics) metrics->epoch(m);
    checkpoint_now();
    last_log_elapsed = state.elapsed_s;  // evaluation time is not training throughput
  };
  cb.should_stop = opt.should_stop;
  bool finished = false;
  try {
    finished = trainer.run(cb);
    if (finished) require_finite(model, trainer.optimizer(), state, t.schedule.lr);
    else checkpoint_now();  // stopped (SIGTERM): the state to resume from
  } catch (const TrainingDiverged& e) {
    // Nothing past the last finite checkpoint is kept: no checkpoint of the diverged state,
    // no model.convoy, no report.json.
    fail(e.what(), "; ", last_checkpoint.empty() ? std::string("no checkpoint was written")
                                                 : "the last finite checkpoint is " + last_checkpoint,
         "; ", (fs::path(opt.out_dir) / "model.convoy").string(), " was not written");
  }

  report["distributed"]["step_times_rank0"] = trainer.step_times().to_json();
  report["epochs"] = nlohmann::json::array();
  for (const EpochMetrics& m : state.history) report["epochs"].push_back(m.to_json());
  if (!finished) {
    log << "stopped at epoch " << state.epoch + 1 << ", batch " << state.batch << "/" << trainer.steps_per_epoch()
        << " (step " << state.step << "); checkpoint " << last_checkpoint << "; continue with: convoy-train --resume "
        << checkpoints.dir() << " and the same options\n";
    report["stopped"] = true;
    report["checkpoint"] = last_checkpoint;
    return report;
  }

  const std::string model_path = (fs::path(opt.out_dir) / "model.convoy").string();
  if (!lead) return report;  // rank 0 writes the model and the report
  save_model(model_path, model, {{"trained_epochs", t.epochs}, {"seed", t.seed}, {"synthetic_data", data.synthetic}});
  const EpochMetrics& last = state.history.back();
  report["stopped"] = false;
  report["final"] = {{"test_acc", last.test_acc},
                     {"test_loss", last.test_loss},
                     {"train_acc", last.train_acc},
                     {"total_s", seconds_since(t0)},
                     {"training_s", last.elapsed_s}};
  report["model_path"] = model_path;
  write_file_atomically((fs::path(opt.out_dir) / "report.json").string(), report.dump(2) + "\n");
  log << note << "wrote " << model_path << " and " << (fs::path(opt.out_dir) / "report.json").string()
      << "; final test_acc " << std::setprecision(4) << last.test_acc << "\n";
  return report;
}

}  // namespace convoy
