// convoy-report: run folders / SageMaker outputs -> Markdown comparison table and SVG plot.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "engine/model_file.h"
#include "report/comparison.h"
#include "report/price_list.h"
#include "tools/cli_checks.h"
#include "tools/tool_main.h"

int run_tool(int argc, char** argv) {
  std::vector<std::string> runs, price_flags;
  std::string prices_file, offer_file, region = "us-east-1", markdown_out, svg_out;
  convoy::report::ComparisonOptions options;

  CLI::App app{"Compare training runs: a Markdown table (machine, world size, images/s, epoch time, time to the "
               "target accuracy, final accuracy, cost) and an SVG plot (test accuracy vs wall time, throughput).\n"
               "A run is a convoy-train --out folder (report.json) or a SageMaker job's model.tar.gz / "
               "output.tar.gz (or a folder holding one)."};
  app.add_option("runs", runs, "Run folders or archives")->required();
  app.add_option("--target", options.target, "Accuracy for the 'time to X%' column")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--prices-from", offer_file,
                 "AWS Price List offer file of AmazonSageMaker (on-demand Training prices of --region)");
  app.add_option("--region", region, "Region whose prices --prices-from reads")->capture_default_str();
  app.add_option("--prices", prices_file, "Price table JSON (e.g. sagemaker/prices.json); overrides --prices-from");
  app.add_option("--price", price_flags, "TYPE=USD_PER_HOUR (repeatable; 'local' for local runs)");
  app.add_option("--markdown", markdown_out, "Write the table here (default: stdout)");
  app.add_option("--svg", svg_out, "Write the plot here");
  CONVOY_PARSE(app, argc, argv);

  if (!offer_file.empty()) options.prices = convoy::report::load_offer_file(offer_file, region);
  if (!prices_file.empty()) options.prices.merge(convoy::report::load_price_table(prices_file));
  for (const auto& p : price_flags) options.prices.set_from_flag(p);
  const auto summaries = convoy::report::load_runs(runs, options);
  const std::string table = convoy::report::markdown_table(summaries, options);
  if (markdown_out.empty()) {
    std::cout << table;
  } else {
    convoy::write_file_atomically(markdown_out, table);
    std::cerr << "convoy-report: wrote " << markdown_out << "\n";
  }
  if (!svg_out.empty()) {
    convoy::write_file_atomically(svg_out, convoy::report::svg_plot(summaries, options));
    std::cerr << "convoy-report: wrote " << svg_out << "\n";
  }
  return 0;
}
