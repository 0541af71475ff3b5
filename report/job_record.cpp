#include "report/job_record.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/error.h"

namespace convoy::report {
namespace {

namespace fs = std::filesystem;

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

}  // namespace

std::optional<std::string> find_job_record(const std::string& run_path) {
  const fs::path p = fs::path(run_path).lexically_normal();
  std::error_code ec;
  fs::path folder = fs::is_directory(p, ec) ? p : p.parent_path();
  if (folder.empty()) folder = ".";
  if (is_file(folder / kJobRecordName)) return (folder / kJobRecordName).string();
  if (folder.filename() == "output" && is_file(folder.parent_path() / kJobRecordName))
    return (folder.parent_path() / kJobRecordName).string();
  return std::nullopt;
}

void apply_job_record(RunSummary& run, const std::string& record_path) {
  std::ifstream in(record_path);
  if (!in) fail(record_path, ": cannot read");
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("TrainingJobName"))
    fail(record_path, ": not a SageMaker job record (launch.py writes one from DescribeTrainingJob); move it away "
                      "or let launch.py write it again");
  auto seconds = [&](const char* key) -> std::optional<double> {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    if (!j[key].is_number() || j[key].get<double>() < 0)
      fail(record_path, ": ", key, " must be a non-negative number of seconds, got ", j[key].dump());
    return j[key].get<double>();
  };
  run.platform = "sagemaker";
  run.billable_s = seconds("BillableTimeInSeconds");
  run.training_time_s = seconds("TrainingTimeInSeconds");
  run.job_name = j.value("TrainingJobName", "");
  run.region = j.value("Region", "");
  if (j.contains("InstanceCount") && j["InstanceCount"].is_number_integer() && j["InstanceCount"].get<int>() >= 1)
    run.instance_count = j["InstanceCount"].get<int>();
  const std::string type = j.value("InstanceType", "");
  if (!type.empty() && type != run.instance_type) {
    run.instance_type = type;
    run.price_key = type;
  }
}

}  // namespace convoy::report
