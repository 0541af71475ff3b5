// load_runs, apply_prices and the Markdown table; the SVG plot is in svg_plot.cpp.
#include "report/comparison.h"

#include <cstdio>
#include <sstream>

#include "engine/error.h"

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
  run.usd_per_hour = prices.find(run.price_key);
  if (run.usd_per_hour) run.cost_usd = run.total_s / 3600.0 * *run.usd_per_hour * run.instance_count;
}

std::vector<RunSummary> load_runs(const std::vector<std::string>& paths, const ComparisonOptions& options) {
  if (paths.empty()) fail("no runs given; pass one or more run folders or SageMaker model.tar.gz/output.tar.gz files");
  std::vector<RunSummary> runs;
  for (const auto& path : paths) {
    RunSummary s = summarize(load_run_report(path), label_for(path), path, options.target);
    apply_prices(s, options.prices);
    runs.push_back(std::move(s));
  }
  return runs;
}

std::string markdown_table(const std::vector<RunSummary>& runs, const ComparisonOptions& options) {
  const std::string target = format("%.0f%%", options.target * 100);
  std::ostringstream os;
  os << "| run | where | machine | world size | images/s | epoch time | time to " << target
     << " | final test acc | epochs | total time | $/hour | cost |\n"
     << "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& r : runs) {
    const std::string where = r.platform + (r.instance_count > 1 ? " x" + std::to_string(r.instance_count) : "");
    os << "| " << cell(r.label) << " | " << where << " | " << cell(r.machine) << " | " << r.world_size << " | "
       << format("%.0f", r.images_per_sec) << " | " << duration(r.epoch_s) << " | "
       << (r.time_to_target_s ? duration(*r.time_to_target_s) : "not reached") << " | "
       << format("%.2f%%", r.final_acc * 100) << " | " << r.epochs << " | " << duration(r.total_s) << " | "
       << (r.usd_per_hour ? format("%.3f", *r.usd_per_hour) : "unknown") << " | "
       << (r.cost_usd ? format("$%.4f", *r.cost_usd) : "unknown") << " |\n";
  }
  os << "\nimages/s and epoch time: means over the epochs. Time to " << target
     << ": wall time from the start of training to the end of the first epoch whose test accuracy reached it. "
        "Cost: total time x $/hour x instances";
  if (!options.prices.read_on.empty()) os << " (prices read on " << options.prices.read_on << ")";
  os << ".\n";
  return os.str();
}

}  // namespace convoy::report
