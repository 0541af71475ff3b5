#include "report/run_report.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/archive_reader.h"
#include "engine/error.h"

namespace convoy::report {
namespace {

namespace fs = std::filesystem;

bool is_archive_name(const std::string& name) {
  return name.ends_with(".tar.gz") || name.ends_with(".tgz") || name.ends_with(".tar");
}

nlohmann::json parse_report(const std::string& text, const std::string& where) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) fail(where, ": not a JSON object; expected a convoy report.json");
  return j;
}

nlohmann::json report_from_archive(const std::string& path) {
  auto members = data::detail::read_archive_members(path, [](const std::string& name) {
    return name == "report.json" || name.ends_with("/report.json");
  });
  if (members.empty())
    fail(path, ": holds no report.json; pass the model.tar.gz or output.tar.gz of a convoy training job");
  // The shallowest one (a job's top-level report) wins.
  const auto* best = &members.front();
  for (const auto& m : members)
    if (m.name.size() < best->name.size()) best = &m;
  return parse_report(std::string(best->bytes.begin(), best->bytes.end()), path + ": " + best->name);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) fail(p.string(), ": cannot read");
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

double mean_of(const nlohmann::json& epochs, const char* key) {
  double sum = 0;
  int n = 0;
  for (const auto& e : epochs)
    if (e.contains(key) && e[key].is_number()) {
      sum += e[key].get<double>();
      ++n;
    }
  return n ? sum / n : 0;
}

std::string trim_cpu(std::string cpu) {
  for (const char* noise : {"(R)", "(TM)", " CPU", " Processor"}) {
    for (auto pos = cpu.find(noise); pos != std::string::npos; pos = cpu.find(noise)) cpu.erase(pos, std::strlen(noise));
  }
  if (auto at = cpu.find(" @ "); at != std::string::npos) cpu.erase(at);
  return cpu;
}

}  // namespace

nlohmann::json load_run_report(const std::string& path) {
  const fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec)) {
    if (fs::is_regular_file(p / "report.json", ec)) return parse_report(read_text(p / "report.json"), (p / "report.json").string());
    for (const char* candidate : {"model.tar.gz", "output.tar.gz", "output/model.tar.gz", "output/output.tar.gz"})
      if (fs::is_regular_file(p / candidate, ec)) return report_from_archive((p / candidate).string());
    fail(path, ": no report.json, model.tar.gz or output.tar.gz in this folder; pass a convoy-train --out folder "
               "or a SageMaker job's output");
  }
  if (!fs::exists(p, ec)) fail(path, ": no such file or folder");
  if (is_archive_name(p.filename().string())) return report_from_archive(path);
  return parse_report(read_text(p), path);
}

std::string label_for(const std::string& path) {
  fs::path p = fs::path(path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  std::string name = p.filename().string();
  if (name == "report.json" || name == "model.tar.gz" || name == "output.tar.gz") {
    p = p.parent_path();
    if (p.filename() == "output" && !p.parent_path().empty()) p = p.parent_path();  // JOB/output/model.tar.gz
    name = p.filename().string();
  }
  for (const char* suffix : {".tar.gz", ".tgz", ".tar"})
    if (name.ends_with(suffix)) name.erase(name.size() - std::strlen(suffix));
  return name.empty() ? path : name;
}

RunSummary summarize(const nlohmann::json& r, const std::string& label, const std::string& source, double target) {
  RunSummary s;
  s.label = label;
  s.source = source;
  const nlohmann::json epochs = r.value("epochs", nlohmann::json::array());
  if (!epochs.is_array() || epochs.empty()) fail(source, ": the report has no epochs (did the run finish one?)");
  const nlohmann::json machine = r.value("machine", nlohmann::json::object());
  s.platform = machine.value("platform", "local");
  s.instance_type = machine.value("instance_type", "");
  s.instance_count = machine.value("host_count", 1);
  s.price_key = s.instance_type.empty() ? "local" : s.instance_type;
  // world_size: under "distributed" (data-parallel runs write it), or at the top level; 1 when absent.
  if (r.contains("distributed") && r["distributed"].is_object()) s.world_size = r["distributed"].value("world_size", 1);
  else if (r.contains("world_size") && r["world_size"].is_number()) s.world_size = r["world_size"].get<int>();

  const std::string device = machine.value("device", "cpu");
  std::string what;
  if (machine.contains("gpu") && machine["gpu"].is_string())
    what = machine["gpu"].get<std::string>();
  else {
    const int threads = machine.value("threads", 0);
    what = trim_cpu(machine.value("cpu", "unknown CPU")) + ", " + std::to_string(threads) +
           (threads == 1 ? " thread" : " threads");
  }
  s.machine = s.instance_type.empty() ? what : s.instance_type + ": " + what;

  s.epochs = static_cast<int>(epochs.size());
  s.images_per_sec = mean_of(epochs, "images_per_sec");
  s.epoch_s = mean_of(epochs, "epoch_s");
  for (const auto& e : epochs) {
    if (!e.contains("test_acc")) continue;  // an epoch after which the test set was skipped (--eval-every)
    CurvePoint c{e.value("elapsed_s", 0.0), e.value("test_acc", 0.0), e.value("images_per_sec", 0.0)};
    s.curve.push_back(c);
    if (!s.time_to_target_s && c.test_acc >= target) s.time_to_target_s = c.elapsed_s;
  }
  const nlohmann::json fin = r.value("final", nlohmann::json::object());
  const CurvePoint last = s.curve.empty() ? CurvePoint{} : s.curve.back();
  s.final_acc = fin.value("test_acc", last.test_acc);
  s.total_s = fin.value("total_s", last.elapsed_s);
  return s;
}

}  // namespace convoy::report
