// Run reports for comparison: reading report.json from a run folder or from a SageMaker
// job's model.tar.gz / output.tar.gz, and reducing it to the figures convoy-report compares
// (machine, world size, throughput, epoch time, time to a target accuracy, cost).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace convoy::report {

// report.json from `path`: a run folder holding report.json (or model.tar.gz /
// output.tar.gz, also under output/), a report.json file, or a .tar.gz/.tgz/.tar holding a
// member named report.json. Throws convoy::Error naming the path otherwise.
nlohmann::json load_run_report(const std::string& path);

struct CurvePoint {
  double elapsed_s = 0;      // since training began
  double test_acc = 0;
  double images_per_sec = 0;
};

struct RunSummary {
  std::string label;         // the run's folder or archive name
  std::string source;        // the path it was read from
  std::string platform;      // "local" or "sagemaker"
  std::string machine;       // e.g. "ml.g4dn.xlarge: Tesla T4" or "Intel Xeon ... (2 threads)"
  std::string instance_type; // "" when not a cloud instance
  std::string price_key;     // instance_type, or "local"
  int instance_count = 1;
  int world_size = 1;
  int epochs = 0;
  double images_per_sec = 0; // mean over epochs
  double epoch_s = 0;        // mean training time of an epoch
  double final_acc = 0;
  std::optional<double> time_to_target_s;  // first epoch end with test_acc >= target
  double total_s = 0;        // the whole run, data loading and evaluation included
  // From the SageMaker job record beside the run (report/job_record.h), when there is one:
  std::optional<double> billable_s;        // BillableTimeInSeconds, per instance
  std::optional<double> training_time_s;   // TrainingTimeInSeconds
  std::string job_name;
  std::string region;
  std::optional<double> usd_per_hour;      // per instance
  std::optional<double> cost_usd;          // see CostBasis
  enum class CostBasis {
    none,          // no price
    billable,      // billable_s / 3600 * usd_per_hour * instance_count: what AWS bills
    run_time,      // a SageMaker run without its record: total_s / 3600 * usd_per_hour *
                   // instance_count, which leaves out start-up, download and upload
    own_price,     // a local run: total_s / 3600 * the user's own usd_per_hour
  } cost_basis = CostBasis::none;
  std::vector<CurvePoint> curve;
};

// Summarises one report (throws convoy::Error if it has no epochs). `label` names it.
RunSummary summarize(const nlohmann::json& report, const std::string& label, const std::string& source,
                     double target);

// A label for a path: the folder name, or the archive name without .tar.gz; a SageMaker
// output folder (JOB/output/model.tar.gz) gives the job name.
std::string label_for(const std::string& path);

}  // namespace convoy::report
