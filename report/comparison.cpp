// load_runs, apply_prices and the Markdown table; the SVG plot is in svg_plot.cpp.
#include "report/comparison.h"

#include <cstdio>
#include <sstream>

#include "engine/error.h"
#include "report/job_record.h"

namespace convoy::report {
namespace {

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

std::string duration(double s) {
  if (s < 120) return format("%.1f s", s);
  if (s < 7200) return format("%.1f min", s / 60);
  return format("%.2f h", s / 3600);
}

// A table cell may not hold '|' or a line break.
std::string cell(std::string s) {
  for (char& c : s)
    if (c == '|' || c == '\n') c = '/';
  return s;
}

}  // namespace

void apply_prices(RunSummary& run, const PriceTable& prices) {
  using Basis = RunSummary::CostBasis;
  run.usd_per_hour = prices.find(run.price_key);
  run.cost_usd.reset();
  run.cost_basis = Basis::none;
  if (!run.usd_per_hour) return;
  if (run.platform != "sagemaker") {
    run.cost_basis = Basis::own_price;
    run.cost_usd = run.total_s / 3600.0 * *run.usd_per_hour * run.instance_count;
  } else if (run.billable_s) {
    run.cost_basis = Basis::billable;
    run.cost_usd = *run.billable_s / 3600.0 * *run.usd_per_hour * run.instance_count;
  } else {
    run.cost_basis = Basis::run_time;
    run.cost_usd = run.total_s / 3600.0 * *run.usd_per_hour * run.instance_count;
  }
}

std::vector<RunSummary> load_runs(const std::vector<std::string>& paths, const ComparisonOptions& options) {
  if (paths.empty()) fail("no runs given; pass one or more run folders or SageMaker model.tar.gz/output.tar.gz files");
  std::vector<RunSummary> runs;
  for (const auto& path : paths) {
    RunSummary s = summarize(load_run_report(path), label_for(path), path, options.target);
    if (const auto record = find_job_record(path)) apply_job_record(s, *record);
    apply_prices(s, options.prices);
    runs.push_back(std::move(s));
  }
  return runs;
}

std::string markdown_table(const std::vector<RunSummary>& runs, const ComparisonOptions& options) {
  const std::string target = format("%.0f%%", options.target * 100);
  std::ostringstream os;
  using Basis = RunSummary::CostBasis;
  os << "| run | where | machine | world size | images/s | epoch time | time to " << target
     << " | final test acc | epochs | total time | billed time | $/hour | cost |\n"
     << "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& r : runs) {
    const std::string where = r.platform + (r.instance_count > 1 ? " x" + std::to_string(r.instance_count) : "");
    const std::string instances = r.instance_count > 1 ? " x" + std::to_string(r.instance_count) : "";
    const std::string billed = r.billable_s ? duration(*r.billable_s) + instances
                               : r.platform == "sagemaker" ? "unknown" : "-";
    const char* own = r.cost_basis == Basis::own_price ? " (own)" : "";
    std::string hourly = "unknown", cost = "unknown";
    if (r.usd_per_hour) hourly = format("%.3f", *r.usd_per_hour) + own;
    if (r.cost_usd) cost = std::string(r.cost_basis == Basis::run_time ? "~" : "") + format("$%.4f", *r.cost_usd) + own;
    os << "| " << cell(r.label) << " | " << where << " | " << cell(r.machine) << " | " << r.world_size << " | "
       << format("%.0f", r.images_per_sec) << " | " << duration(r.epoch_s) << " | "
       << (r.time_to_target_s ? duration(*r.time_to_target_s) : "not reached") << " | "
       << format("%.2f%%", r.final_acc * 100) << " | " << r.epochs << " | " << duration(r.total_s) << " | "
       << billed << " | " << hourly << " | " << cost << " |\n";
  }
  os << "\nimages/s and epoch time: means over the epochs. Time to " << target
     << ": wall time from the start of training to the end of the first epoch whose test accuracy reached it. "
        "Cost of a SageMaker run: billed time (the job's BillableTimeInSeconds, from the sagemaker-job.json "
        "launch.py keeps beside the run) x instances x the instance type's on-demand $/hour";
  if (!options.prices.source.empty()) os << " (" << options.prices.source << ")";
  if (!options.prices.read_on.empty()) os << ", read on " << options.prices.read_on;
  os << "; ~ marks one without that record, priced on its own run time, which leaves out start-up, data "
        "download and upload. (own): a local run, total time x your own $/hour (--price local=USD).\n";
  return os.str();
}

}  // namespace convoy::report
