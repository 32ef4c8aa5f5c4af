// A small SVG writer for benchmark charts (scatter and line series, an optional highlighted Pareto
// frontier, a legend), so sweeps draw their plots without gnuplot or Python. Output is one
// self-contained, well-formed SVG document; text is XML-escaped.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pareto::bench {

struct PlotPoint {
  double x = 0;
  double y = 0;
  // Drawn next to the marker when non-empty. A series point's label is left out where it would
  // cover another label or marker; frontier labels are always drawn (in bold), and replace the
  // label of a series point at the same coordinates.
  std::string label;
};

struct PlotSeries {
  std::string name;  // legend entry
  std::vector<PlotPoint> points;
  bool connect = true;  // draw a thin line through the points in the given order
  std::string color;    // CSS colour; empty = the next colour of the built-in palette
};

// How the frontier line runs between two consecutive frontier points (sorted by x).
// kStepHV: horizontally first, then vertically (min-x/max-y frontiers, e.g. latency/throughput:
// the throughput reachable within a latency budget). kStepVH: vertically first (max/max).
enum class FrontierStyle { kLine, kStepHV, kStepVH };

struct PlotFrontier {
  std::string name = "Pareto frontier";
  std::vector<PlotPoint> points;  // sorted by x; labels are drawn in bold
  FrontierStyle style = FrontierStyle::kLine;
};

struct PlotAxis {
  std::string label;
  bool log = false;           // log10 scale; non-positive values are left out of the plot
  std::optional<double> min;  // default: from the data (linear axes start at 0 when data >= 0)
  std::optional<double> max;
};

struct PlotSpec {
  std::string title;
  std::string subtitle;  // a smaller second line, e.g. the model and workload
  PlotAxis x, y;
  std::vector<PlotSeries> series;
  std::optional<PlotFrontier> frontier;
  int width = 960;
  int height = 600;
};

// The SVG document (starts with "<?xml", viewBox "0 0 width height").
std::string render_svg(const PlotSpec& spec);

// "Nice" linear ticks (steps of 1, 2 or 5 x 10^k) covering [lo, hi] with about `target` ticks;
// the first tick is <= lo and the last >= hi. lo == hi gets a range around the value.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

// Ticks for a log10 axis over [lo, hi] (0 < lo < hi), all inside the range: the 1, 2, 5 x 10^k,
// thinned to powers of ten when that gives too many; a range too narrow to hold two of them
// gets nice linear ticks instead.
std::vector<double> log_ticks(double lo, double hi);

// A short tick label: "0", "0.5", "250", "1.2k", "3M", "1e-05".
std::string format_tick(double v);

// Escapes & < > " ' for XML text and attribute values.
std::string xml_escape(std::string_view text);

}  // namespace pareto::bench
