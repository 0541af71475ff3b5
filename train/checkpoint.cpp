#include "train/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <regex>

#include "engine/error.h"
#include "engine/model_file.h"
#include "train/finite_check.h"

namespace convoy {
namespace {

namespace fs = std::filesystem;

const std::string kMomentumPrefix = "optimizer.momentum/";

nlohmann::json fingerprint_json(const RunFingerprint& f) {
  return {{"must_match", f.must_match}, {"may_differ", f.may_differ}};
}

std::string short_value(const nlohmann::json& v) {
  std::string s = v.is_null() ? "(not recorded)" : v.dump();
  if (s.size() > 120) s = s.substr(0, 117) + "...";
  return s;
}

void restore_tensor(const std::string& path, const ModelFile& mf, const std::string& name, Tensor& dst) {
  const Tensor* src = mf.find(name);
  if (!src) fail(path, ": checkpoint has no tensor '", name, "' (it was written for another model)");
  if (!(src->shape() == dst.shape()))
    fail(path, ": checkpoint tensor '", name, "' has shape ", src->shape().to_string(), ", the model needs ",
         dst.shape().to_string());
  dst.copy_from(*src);
  if (std::string what = non_finite_element(dst); !what.empty())
    fail(path, ": checkpoint tensor '", name, "': ", what, " (written by a diverged run); it cannot be resumed from");
}

}  // namespace

std::string checkpoint_path(const std::string& dir, int64_t step) {
  char name[64];
  std::snprintf(name, sizeof(name), "checkpoint-%09lld.convoy", static_cast<long long>(step));
  return (fs::path(dir) / name).string();
}

std::vector<CheckpointFile> list_checkpoints(const std::string& dir) {
  std::vector<CheckpointFile> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  static const std::regex pattern(R"(checkpoint-([0-9]+)\.convoy)");
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && std::regex_match(name, m, pattern))
      out.push_back({entry.path().string(), std::stoll(m[1].str())});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
  return out;
}

std::string new_run_id() {
  std::random_device device;
  const uint64_t v = (static_cast<uint64_t>(device()) << 32) ^ device();
  char id[17];
  std::snprintf(id, sizeof(id), "%016llx", static_cast<unsigned long long>(v));
  return id;
}

std::optional<std::string> checkpoint_run_id(const std::string& path) {
  try {
    ModelFile mf = read_model_file(path);
    if (mf.header.value("format", std::string()) != kCheckpointFormat) return std::nullopt;
    const auto it = mf.header.find("run_id");
    if (it == mf.header.end()) return std::string();
    if (!it->is_string()) return std::nullopt;
    return it->get<std::string>();
  } catch (const Error&) {
    return std::nullopt;
  }
}

void write_checkpoint(const std::string& path, Model& model, SgdOptimizer& optimizer, const TrainState& state,
                      const RunFingerprint& options, const std::string& run_id) {
  nlohmann::json header;
  header["format"] = kCheckpointFormat;
  header["config"] = model.config();
  header["classes"] = model.class_names;
  header["normalization"] = {{"mean", {model.mean[0], model.mean[1], model.mean[2]}},
                             {"std", {model.std[0], model.std[1], model.std[2]}},
                             {"units", "0-255"}};
  header["state"] = state.to_json();
  header["run_options"] = fingerprint_json(options);
  if (!run_id.empty()) header["run_id"] = run_id;
  std::vector<NamedTensor> tensors;
  const auto params = model.params();
  for (Param* p : params) tensors.push_back({p->name, p->value});
  for (Buffer& b : model.buffers()) tensors.push_back({b.name, *b.value});
  auto& momentum = optimizer.momentum_buffers();
  CONVOY_CHECK(momentum.size() == params.size(), "optimizer has " << momentum.size() << " buffers for "
                                                                  << params.size() << " parameters");
  for (size_t i = 0; i < params.size(); ++i) tensors.push_back({kMomentumPrefix + params[i]->name, momentum[i]});
  write_model_file(path, header, tensors);
}

namespace {

// Checkpoints written before the options were named as the library names them ("--batch-size",
// "--data (classes)") read as today's ("batch_size", "classes").
nlohmann::json option_keys(const nlohmann::json& recorded) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : recorded.items()) {
    std::string k = key;
    if (k == "--data (training images)") k = "training images";
    else if (k == "--data (classes)") k = "classes";
    else if (k == "flip") k = "horizontal flip";
    else if (k.rfind("--", 0) == 0) {
      k = k.substr(2);
      for (char& ch : k) ch = ch == '-' ? '_' : ch;
    }
    out[k] = value;
  }
  return out;
}

}  // namespace

Checkpoint read_checkpoint(const std::string& path, Model& model, SgdOptimizer& optimizer) {
  ModelFile mf = read_model_file(path);
  if (mf.header.value("format", std::string()) != kCheckpointFormat)
    fail(path, ": not a convoy checkpoint (header format '", mf.header.value("format", std::string("none")),
         "', expected '", kCheckpointFormat, "')");
  if (!mf.header.contains("state") || !mf.header.contains("run_options"))
    fail(path, ": checkpoint header lacks the training state or the run options");
  if (mf.header.contains("config") && mf.header["config"] != model.config())
    fail(path, ": checkpoint holds model '", mf.header["config"].value("name", std::string("?")),
         "' with another architecture than the run's model '", model.name(), "'; resume with the same model");
  Checkpoint c;
  c.path = path;
  c.state = TrainState::from_json(mf.header["state"], path);
  const auto& ro = mf.header["run_options"];
  c.options.must_match = option_keys(ro.value("must_match", nlohmann::json::object()));
  c.options.may_differ = option_keys(ro.value("may_differ", nlohmann::json::object()));
  if (mf.header.contains("run_id")) {
    if (!mf.header["run_id"].is_string()) fail(path, ": checkpoint run_id is not a string");
    c.run_id = mf.header["run_id"].get<std::string>();
  }
  const auto params = model.params();
  for (Param* p : params) restore_tensor(path, mf, p->name, p->value);
  for (Buffer& b : model.buffers()) restore_tensor(path, mf, b.name, *b.value);
  auto& momentum = optimizer.momentum_buffers();
  for (size_t i = 0; i < params.size(); ++i) restore_tensor(path, mf, kMomentumPrefix + params[i]->name, momentum[i]);
  return c;
}

std::vector<std::string> check_resume_options(const RunFingerprint& saved, const RunFingerprint& now,
                                              const std::string& path) {
  for (const auto& [option, value] : now.must_match.items()) {
    const nlohmann::json before = saved.must_match.contains(option) ? saved.must_match[option] : nlohmann::json();
    if (before == value) continue;
    // Options are named as TrainRunOptions names them; the others (several words) have no flag.
    const std::string detail = "was " + short_value(before) + " in the run checkpointed at " + path + ", now " +
                               short_value(value) + "; resume with the same value (or start a fresh run elsewhere)";
    if (option.find(' ') == std::string::npos) fail_option(option, detail);
    fail("cannot resume: ", option, " ", detail);
  }
  for (const auto& [option, value] : saved.must_match.items())
    if (!now.must_match.contains(option))
      fail("cannot resume from ", path, ": it records option ", option, " that this version does not know");
  std::vector<std::string> warnings;
  for (const auto& [option, value] : now.may_differ.items()) {
    if (!saved.may_differ.contains(option)) continue;  // a checkpoint from before the option existed
    const nlohmann::json& before = saved.may_differ[option];
    if (before != value)
      warnings.push_back(option + " was " + short_value(before) + " in the checkpointed run, now " +
                         short_value(value) + ": training continues, but not bit-identically to an uninterrupted run");
  }
  return warnings;
}

CheckpointWriter::CheckpointWriter(std::string dir, int keep, std::string run_id, bool adopt_unmarked)
    : dir_(std::move(dir)), keep_(keep), run_id_(std::move(run_id)) {
  if (keep_ < 1) fail_option("keep_checkpoints", keep_, " must be at least 1");
  if (dir_.empty()) fail("checkpoint folder is empty");
  for (const CheckpointFile& c : list_checkpoints(dir_)) {
    const std::optional<std::string> id = checkpoint_run_id(c.path);
    if (id && (*id == run_id_ || (adopt_unmarked && id->empty()))) own_.push_back(c);
  }
}

std::string CheckpointWriter::write(Model& model, SgdOptimizer& optimizer, const TrainState& state,
                                    const RunFingerprint& options) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) fail("cannot create the checkpoint folder ", dir_, ": ", ec.message());
  // A writer killed mid-write leaves ".checkpoint-*.convoy.tmp.<pid>" (never under the final name).
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(".checkpoint-", 0) == 0 && name.find(".tmp.") != std::string::npos) fs::remove(entry.path(), ec);
  }
  const std::string path = checkpoint_path(dir_, state.step);
  write_checkpoint(path, model, optimizer, state, options, run_id_);
  own_.erase(std::remove_if(own_.begin(), own_.end(), [&](const CheckpointFile& c) { return c.step == state.step; }),
             own_.end());
  own_.push_back({path, state.step});
  std::sort(own_.begin(), own_.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
  while (own_.size() > static_cast<size_t>(keep_)) {
    fs::remove(own_.front().path, ec);
    own_.erase(own_.begin());
  }
  return path;
}

CheckpointFile latest_checkpoint(const std::string& dir) {
  std::vector<CheckpointFile> here = list_checkpoints(dir);
  if (!here.empty()) return here.back();
  const std::string sub = (fs::path(dir) / "checkpoints").string();
  std::vector<CheckpointFile> below = list_checkpoints(sub);
  if (!below.empty()) return below.back();
  std::error_code ec;
  fail_option("resume", dir, ": no checkpoint-<step>.convoy in ", dir, " or in ", sub,
       fs::exists(dir, ec) ? "" : " (the folder does not exist)", "; start without --resume for a fresh run");
}

}  // namespace convoy
