// The comparison plot as hand-written SVG: no plotting library, so it builds everywhere.
// Left panel: test accuracy (y, 0-100%) against wall time since training began (x, s), one
// polyline with markers per run and the target as a dashed line. Right panel: mean
// training images/s per run as horizontal bars, labelled with the value.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "report/comparison.h"

namespace convoy::report {
namespace {

constexpr const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

// A "nice" axis step (1, 2 or 5 times a power of ten) giving about `ticks` ticks.
double nice_step(double range, int ticks) {
  const double raw = range / std::max(1, ticks);
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * p) return m * p;
  return 10 * p;
}

std::string short_number(double v) {
  char buf[32];
  if (v >= 10000) std::snprintf(buf, sizeof(buf), "%.0fk", v / 1000);
  else std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

}  // namespace

std::string svg_plot(const std::vector<RunSummary>& runs, const ComparisonOptions& options) {
  const double W = 1100, H = 480 + 22.0 * runs.size();
  // Left panel geometry.
  const double lx = 70, ly = 50, lw = 560, lh = 340;
  // Right panel geometry.
  const double rx = 760, ry = 50, rw = 300, rh = 340;

  double max_t = 1;
  double max_ips = 1;
  for (const auto& r : runs) {
    for (const auto& c : r.curve) max_t = std::max(max_t, c.elapsed_s);
    max_ips = std::max(max_ips, r.images_per_sec);
  }
  const double t_step = nice_step(max_t, 6);
  max_t = std::ceil(max_t / t_step) * t_step;
  const double ips_step = nice_step(max_ips, 4);
  max_ips = std::ceil(max_ips / ips_step) * ips_step;

  auto X = [&](double t) { return lx + t / max_t * lw; };
  auto Y = [&](double acc) { return ly + lh - acc * lh; };

  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
    << " " << H << "\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"13\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";

  // Left panel: grid, axes, ticks.
  s << "<text x=\"" << lx + lw / 2 << "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">"
    << "Test accuracy vs wall time</text>\n";
  for (int i = 0; i <= 10; i += 2) {
    const double y = Y(i / 10.0);
    s << "<line x1=\"" << lx << "\" y1=\"" << num(y) << "\" x2=\"" << lx + lw << "\" y2=\"" << num(y)
      << "\" stroke=\"#e0e0e0\"/>\n<text x=\"" << lx - 8 << "\" y=\"" << num(y + 4) << "\" text-anchor=\"end\">"
      << i * 10 << "%</text>\n";
  }
  for (double t = 0; t <= max_t + 1e-9; t += t_step) {
    const double x = X(t);
    s << "<line x1=\"" << num(x) << "\" y1=\"" << ly << "\" x2=\"" << num(x) << "\" y2=\"" << ly + lh
      << "\" stroke=\"#e0e0e0\"/>\n<text x=\"" << num(x) << "\" y=\"" << ly + lh + 18
      << "\" text-anchor=\"middle\">" << short_number(t) << "</text>\n";
  }
  s << "<rect x=\"" << lx << "\" y=\"" << ly << "\" width=\"" << lw << "\" height=\"" << lh
    << "\" fill=\"none\" stroke=\"#333\"/>\n"
    << "<text x=\"" << lx + lw / 2 << "\" y=\"" << ly + lh + 40 << "\" text-anchor=\"middle\">"
    << "wall time since training began (s)</text>\n"
    << "<text x=\"18\" y=\"" << ly + lh / 2 << "\" text-anchor=\"middle\" transform=\"rotate(-90 18 " << ly + lh / 2
    << ")\">test accuracy</text>\n";
  const double ty = Y(options.target);
  s << "<line x1=\"" << lx << "\" y1=\"" << num(ty) << "\" x2=\"" << lx + lw << "\" y2=\"" << num(ty)
    << "\" stroke=\"#555\" stroke-dasharray=\"6 4\"/>\n<text x=\"" << lx + 6 << "\" y=\"" << num(ty - 5)
    << "\" text-anchor=\"start\" fill=\"#555\">target " << num(options.target * 100) << "%</text>\n";

  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& r = runs[i];
    const char* colour = kColours[i % std::size(kColours)];
    s << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"2.5\" points=\"" << num(X(0)) << ","
      << num(Y(0));
    for (const auto& c : r.curve) s << " " << num(X(c.elapsed_s)) << "," << num(Y(c.test_acc));
    s << "\"/>\n";
    for (const auto& c : r.curve)
      s << "<circle cx=\"" << num(X(c.elapsed_s)) << "\" cy=\"" << num(Y(c.test_acc)) << "\" r=\"4\" fill=\""
        << colour << "\"/>\n";
  }

  // Right panel: one bar per run.
  s << "<text x=\"" << rx + rw / 2 << "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">"
    << "Training throughput</text>\n";
  for (double v = 0; v <= max_ips + 1e-9; v += ips_step) {
    const double x = rx + v / max_ips * rw;
    s << "<line x1=\"" << num(x) << "\" y1=\"" << ry << "\" x2=\"" << num(x) << "\" y2=\"" << ry + rh
      << "\" stroke=\"#e0e0e0\"/>\n<text x=\"" << num(x) << "\" y=\"" << ry + rh + 18
      << "\" text-anchor=\"middle\">" << short_number(v) << "</text>\n";
  }
  s << "<rect x=\"" << rx << "\" y=\"" << ry << "\" width=\"" << rw << "\" height=\"" << rh
    << "\" fill=\"none\" stroke=\"#333\"/>\n<text x=\"" << rx + rw / 2 << "\" y=\"" << ry + rh + 40
    << "\" text-anchor=\"middle\">images/s (mean over epochs)</text>\n";
  const double slot = rh / std::max<size_t>(1, runs.size());
  const double bar = std::min(40.0, slot * 0.6);
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& r = runs[i];
    const double y = ry + slot * i + (slot - bar) / 2;
    const double w = r.images_per_sec / max_ips * rw;
    s << "<rect x=\"" << rx << "\" y=\"" << num(y) << "\" width=\"" << num(w) << "\" height=\"" << num(bar)
      << "\" fill=\"" << kColours[i % std::size(kColours)] << "\"/>\n";
    s << "<text x=\"" << rx + 4 << "\" y=\"" << num(y - 4) << "\" font-size=\"11\" fill=\"#333\">" << escape(r.label)
      << "</text>\n";
    const bool inside = w > 70;
    s << "<text x=\"" << num(inside ? rx + w - 6 : rx + w + 6) << "\" y=\"" << num(y + bar / 2 + 5)
      << "\" text-anchor=\"" << (inside ? "end" : "start") << "\" fill=\"" << (inside ? "white" : "#222")
      << "\" font-weight=\"bold\">" << num(r.images_per_sec) << "</text>\n";
  }

  // Legend under both panels: colour, run label, machine, world size.
  double y = ly + lh + 75;
  for (size_t i = 0; i < runs.size(); ++i, y += 22) {
    const auto& r = runs[i];
    s << "<rect x=\"" << lx << "\" y=\"" << num(y - 11) << "\" width=\"22\" height=\"12\" fill=\""
      << kColours[i % std::size(kColours)] << "\"/>\n<text x=\"" << lx + 30 << "\" y=\"" << num(y) << "\">"
      << escape(r.label) << " (" << escape(r.platform) << "): " << escape(r.machine) << ", world size "
      << r.world_size << ", final " << num(r.final_acc * 100) << "%</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

}  // namespace convoy::report
