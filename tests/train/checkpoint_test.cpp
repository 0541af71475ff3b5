// Checkpoints in the library: a round trip restores model, momentum and state exactly; a
// run stopped, checkpointed and continued in a fresh trainer ends bit-identical; corrupt,
// truncated and foreign files are rejected naming the file; options that must match are
// enforced by name; only the newest K are kept.
#include <gtest/gtest.h>

#include <filesystem>

#include "data/sources.h"
#include "engine/error.h"
#include "engine/threads.h"
#include "train/checkpoint.h"
#include "train/trainer.h"
#include "train_test_util.h"

namespace convoy {
namespace {

namespace fs = std::filesystem;

const data::CifarData& small_data() {
  static const data::CifarData d = [] {
    data::LoadOptions lo;
    lo.synthetic_train = 320;
    lo.synthetic_test = 64;
    lo.synthetic_seed = 5;
    return data::load_cifar("synthetic", lo);
  }();
  return d;
}

TrainOptions small_options() {
  TrainOptions o;
  o.epochs = 2;
  o.batch_size = 32;  // 10 steps per epoch
  o.schedule.kind = LrSchedule::Kind::one_cycle;
  o.schedule.lr = 0.05;
  o.label_smoothing = 0.1f;
  o.seed = 13;
  o.progress = false;
  return o;
}

Model tiny_model(uint64_t seed) {
  Model m = Model::from_config(test::tiny_model_config());
  m.class_names = small_data().train.class_names;
  m.init_params(seed);
  return m;
}

std::vector<std::vector<float>> all_tensors(Model& m, SgdOptimizer* opt) {
  std::vector<std::vector<float>> out;
  for (Param* p : m.params()) out.push_back(p->value.to_vector());
  for (Buffer& b : m.buffers()) out.push_back(b.value->to_vector());
  if (opt)
    for (Tensor& t : opt->momentum_buffers()) out.push_back(t.to_vector());
  return out;
}

RunFingerprint fingerprint(int batch_size, int threads) {
  RunFingerprint f;
  f.must_match = {{"batch_size", batch_size}, {"seed", 13}};
  f.may_differ = {{"threads", threads}};
  return f;
}

// Trains until `stop_after` steps, or to the end with -1.
TrainState train_until(Trainer& trainer, int64_t stop_after) {
  TrainCallbacks cb;
  cb.should_stop = [&] { return stop_after >= 0 && trainer.state().step >= stop_after; };
  trainer.run(cb);
  return trainer.state();
}

TEST(Checkpoint, RoundTripRestoresModelMomentumAndState) {
  set_num_threads(2);
  const std::string dir = test::temp_dir("roundtrip");
  Model a = tiny_model(1);
  Context ctx = Context::make(Device::cpu());
  Trainer ta(a, ctx, small_data(), small_options());
  TrainState s = train_until(ta, 13);  // mid-epoch 2
  ASSERT_EQ(s.step, 13);
  ASSERT_EQ(s.epoch, 1);
  ASSERT_EQ(s.batch, 3);
  ASSERT_EQ(s.history.size(), 1u);
  const std::string path = checkpoint_path(dir, s.step);
  write_checkpoint(path, a, ta.optimizer(), s, fingerprint(32, 2));

  Model b = tiny_model(99);  // other initial weights, to be overwritten
  Trainer tb(b, ctx, small_data(), small_options());
  ASSERT_NE(all_tensors(a, &ta.optimizer()), all_tensors(b, &tb.optimizer()));
  Checkpoint c = read_checkpoint(path, b, tb.optimizer());
  EXPECT_EQ(all_tensors(a, &ta.optimizer()), all_tensors(b, &tb.optimizer()));
  EXPECT_EQ(c.state.to_json(), s.to_json());
  EXPECT_EQ(c.options.must_match, fingerprint(32, 2).must_match);
  EXPECT_EQ(c.state.history[0].to_line(), s.history[0].to_line());

  // A checkpoint that recorded the options by their convoy-train flags reads as today's names.
  RunFingerprint flags;
  flags.must_match = {{"--batch-size", 32}, {"--data (classes)", 10}, {"flip", true}};
  flags.may_differ = {{"--grad-compression", "none"}};
  write_checkpoint(path, a, ta.optimizer(), s, flags);
  const Checkpoint old = read_checkpoint(path, b, tb.optimizer());
  EXPECT_EQ(old.options.must_match, nlohmann::json({{"batch_size", 32}, {"classes", 10}, {"horizontal flip", true}}));
  EXPECT_EQ(old.options.may_differ, nlohmann::json({{"grad_compression", "none"}}));
  fs::remove_all(dir);
}

TEST(Checkpoint, StoppedAndContinuedRunEndsBitIdentical) {
  set_num_threads(2);
  const std::string dir = test::temp_dir("continue");
  Context ctx = Context::make(Device::cpu());
  Model whole = tiny_model(4);
  Trainer tw(whole, ctx, small_data(), small_options());
  const TrainState end = train_until(tw, -1);
  ASSERT_EQ(end.epoch, 2);

  Model first = tiny_model(4);
  Trainer tf(first, ctx, small_data(), small_options());
  const TrainState mid = train_until(tf, 7);
  write_checkpoint(checkpoint_path(dir, mid.step), first, tf.optimizer(), mid, fingerprint(32, 2));

  Model second = tiny_model(5);
  Trainer ts(second, ctx, small_data(), small_options());
  Checkpoint c = read_checkpoint(checkpoint_path(dir, 7), second, ts.optimizer());
  ts.restore(c.state);
  const TrainState resumed = train_until(ts, -1);
  EXPECT_EQ(all_tensors(whole, &tw.optimizer()), all_tensors(second, &ts.optimizer()));
  ASSERT_EQ(resumed.history.size(), end.history.size());
  for (size_t e = 0; e < end.history.size(); ++e) {
    EXPECT_EQ(resumed.history[e].train_loss, end.history[e].train_loss) << "epoch " << e + 1;
    EXPECT_EQ(resumed.history[e].train_acc, end.history[e].train_acc) << "epoch " << e + 1;
    EXPECT_EQ(resumed.history[e].test_acc, end.history[e].test_acc) << "epoch " << e + 1;
  }
  fs::remove_all(dir);
}

TEST(Checkpoint, RestoreRefusesAStateThatDoesNotFitTheRun) {
  Model m = tiny_model(1);
  Context ctx = Context::make(Device::cpu());
  Trainer t(m, ctx, small_data(), small_options());
  TrainState s;
  s.epoch = 0;
  s.batch = 11;  // only 10 batches per epoch
  s.step = 11;
  EXPECT_THROW(t.restore(s), Error);
}

TEST(Checkpoint, MismatchingOptionIsRefusedByName) {
  const std::string path = "/somewhere/checkpoint-000000012.convoy";
  try {
    check_resume_options(fingerprint(32, 2), fingerprint(64, 2), path);
    FAIL() << "a different batch_size was accepted";
  } catch (const OptionError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.option(), "batch_size") << msg;
    EXPECT_NE(msg.find("32"), std::string::npos) << msg;
    EXPECT_NE(msg.find("64"), std::string::npos) << msg;
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
  }
  std::vector<std::string> warnings = check_resume_options(fingerprint(32, 2), fingerprint(32, 1), path);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("threads"), std::string::npos) << warnings[0];
  EXPECT_TRUE(check_resume_options(fingerprint(32, 2), fingerprint(32, 2), path).empty());
  // A may-differ option the checkpointing version did not record yet is not compared.
  RunFingerprint newer = fingerprint(32, 2);
  newer.may_differ["grad_compression"] = "none";
  EXPECT_TRUE(check_resume_options(fingerprint(32, 2), newer, path).empty());
  RunFingerprint both = newer;
  both.may_differ["grad_compression"] = "fp16";
  EXPECT_EQ(check_resume_options(newer, both, path).size(), 1u);
}

TEST(Checkpoint, CorruptTruncatedOrForeignFilesAreRejectedNamingTheFile) {
  set_num_threads(2);
  const std::string dir = test::temp_dir("corrupt");
  Model m = tiny_model(2);
  Context ctx = Context::make(Device::cpu());
  Trainer t(m, ctx, small_data(), small_options());
  const TrainState s = train_until(t, 3);
  const std::string good = checkpoint_path(dir, s.step);
  write_checkpoint(good, m, t.optimizer(), s, fingerprint(32, 2));
  const std::string bytes = test::file_bytes(good);
  const std::string bad = dir + "/bad.convoy";
  auto expect_rejected = [&](const std::string& content, const std::string& what) {
    test::write_bytes(bad, content);
    Model other = tiny_model(3);
    Trainer to(other, ctx, small_data(), small_options());
    try {
      read_checkpoint(bad, other, to.optimizer());
      ADD_FAILURE() << what << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << what << ": " << e.what();
    }
  };
  for (size_t cut : {size_t(0), size_t(7), size_t(20), bytes.size() / 3, bytes.size() / 2, bytes.size() - 1})
    expect_rejected(bytes.substr(0, cut), "truncation at " + std::to_string(cut));
  for (size_t at : {size_t(30), bytes.size() / 2, bytes.size() * 3 / 4}) {
    std::string flipped = bytes;
    flipped[at] ^= 0x10;
    expect_rejected(flipped, "a flipped byte at " + std::to_string(at));
  }
  // A model file is not a checkpoint; nor is a checkpoint of another architecture.
  nlohmann::json other_config = test::tiny_model_config();
  other_config["layers"][0]["out"] = 4;
  Model wider = Model::from_config(other_config);
  wider.init_params(1);
  Trainer tw(wider, ctx, small_data(), small_options());
  write_checkpoint(bad, wider, tw.optimizer(), s, fingerprint(32, 2));
  Model m2 = tiny_model(3);
  Trainer t2(m2, ctx, small_data(), small_options());
  EXPECT_THROW(read_checkpoint(bad, m2, t2.optimizer()), Error);
  fs::remove_all(dir);
}

TEST(Checkpoint, WriterKeepsTheNewestKAndClearsTornTemporaries) {
  set_num_threads(2);
  const std::string dir = test::temp_dir("keep");
  Model m = tiny_model(2);
  Context ctx = Context::make(Device::cpu());
  Trainer t(m, ctx, small_data(), small_options());
  CheckpointWriter w(dir, 2);
  test::write_bytes(dir + "/.checkpoint-000000004.convoy.tmp.12345", "half a checkpoint");
  TrainState s;
  for (int64_t step : {3, 1, 5, 4}) {
    s.step = step;
    w.write(m, t.optimizer(), s, fingerprint(32, 2));
  }
  std::vector<CheckpointFile> left = list_checkpoints(dir);
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].step, 4);
  EXPECT_EQ(left[1].step, 5);
  EXPECT_EQ(latest_checkpoint(dir).path, checkpoint_path(dir, 5));
  EXPECT_FALSE(fs::exists(dir + "/.checkpoint-000000004.convoy.tmp.12345"));
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 2u);
  EXPECT_THROW(CheckpointWriter(dir, 0), Error);
  fs::remove_all(dir);
}

// Two runs sharing a checkpoint folder: each prunes only its own checkpoints, so a new run's
// early (low-step) checkpoints are not deleted in favour of an older run's higher steps, and
// the older run's are not deleted by the new one.
TEST(Checkpoint, WriterPrunesOnlyItsOwnRunsCheckpoints) {
  set_num_threads(2);
  const std::string dir = test::temp_dir("own_run");
  Model m = tiny_model(2);
  Context ctx = Context::make(Device::cpu());
  Trainer t(m, ctx, small_data(), small_options());
  TrainState s;
  {
    CheckpointWriter old_run(dir, 3, "00000000000000aa", false);
    for (int64_t step : {100, 200, 300}) {
      s.step = step;
      old_run.write(m, t.optimizer(), s, fingerprint(32, 2));
    }
  }
  CheckpointWriter new_run(dir, 2, "00000000000000bb", false);
  for (int64_t step : {1, 2, 3}) {
    s.step = step;
    new_run.write(m, t.optimizer(), s, fingerprint(32, 2));
  }
  std::vector<int64_t> steps;
  for (const CheckpointFile& c : list_checkpoints(dir)) steps.push_back(c.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{2, 3, 100, 200, 300}));
  EXPECT_EQ(checkpoint_run_id(checkpoint_path(dir, 3)), std::optional<std::string>("00000000000000bb"));
  EXPECT_EQ(checkpoint_run_id(checkpoint_path(dir, 300)), std::optional<std::string>("00000000000000aa"));
  SgdOptimizer opt(m, SgdOptions{});
  EXPECT_EQ(read_checkpoint(checkpoint_path(dir, 2), m, opt).run_id, "00000000000000bb");
  // A writer that continues a run (the same run_id) owns the checkpoints already there.
  CheckpointWriter resumed(dir, 2, "00000000000000aa", false);
  s.step = 400;
  resumed.write(m, t.optimizer(), s, fingerprint(32, 2));
  steps.clear();
  for (const CheckpointFile& c : list_checkpoints(dir)) steps.push_back(c.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{2, 3, 300, 400}));
  EXPECT_NE(new_run_id(), new_run_id());
  fs::remove_all(dir);
}

TEST(Checkpoint, LatestLooksInTheFolderThenItsCheckpointsSubfolder) {
  const std::string dir = test::temp_dir("latest");
  try {
    latest_checkpoint(dir);
    FAIL() << "an empty folder gave a checkpoint";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir), std::string::npos) << e.what();
  }
  fs::create_directories(dir + "/checkpoints");
  test::write_bytes(checkpoint_path(dir + "/checkpoints", 40), "x");
  test::write_bytes(checkpoint_path(dir + "/checkpoints", 120), "x");
  test::write_bytes(dir + "/checkpoints/notes.txt", "x");
  EXPECT_EQ(latest_checkpoint(dir).step, 120);
  EXPECT_EQ(latest_checkpoint(dir + "/checkpoints").step, 120);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace convoy
