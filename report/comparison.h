// The comparison convoy-report writes: a Markdown table and an SVG plot (test accuracy
// against wall time, and throughput per run) from run summaries.
#pragma once
#include <string>
#include <vector>

#include "report/prices.h"
#include "report/run_report.h"

namespace convoy::report {

struct ComparisonOptions {
  double target = 0.8;        // the accuracy of the "time to X%" column
  PriceTable prices;
};

// Loads every path (see load_run_report), summarises and prices it.
std::vector<RunSummary> load_runs(const std::vector<std::string>& paths, const ComparisonOptions& options);

// Fills usd_per_hour and cost_usd from the table.
void apply_prices(RunSummary& run, const PriceTable& prices);

// | run | machine | world size | images/s | epoch s | time to 80% | final acc | hours | $/h | cost |
std::string markdown_table(const std::vector<RunSummary>& runs, const ComparisonOptions& options);

// Two panels side by side: test accuracy vs wall time (one line per run, the target as a
// dashed line) and mean images/s per run (bars). Self-contained SVG 1.1.
std::string svg_plot(const std::vector<RunSummary>& runs, const ComparisonOptions& options);

}  // namespace convoy::report
