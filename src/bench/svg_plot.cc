#include "bench/svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace pareto::bench {
namespace {

// Colour-blind-friendly palette (Okabe-Ito, without yellow, which the frontier uses).
constexpr std::array<const char*, 7> kPalette = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                 "#56B4E9", "#E69F00", "#000000"};
constexpr const char* kFrontierColor = "#F2B701";
constexpr const char* kFont = "DejaVu Sans, Helvetica, Arial, sans-serif";
constexpr double kLabelFont = 11;

bool usable(double v, bool log) {
  return std::isfinite(v) && (!log || v > 0);
}

// One axis' mapping from data to pixels.
struct Scale {
  double lo = 0, hi = 1;        // data range shown
  double px_lo = 0, px_hi = 1;  // pixels of lo and hi (px_hi < px_lo for y)
  bool log = false;
  std::vector<double> ticks;

  double t(double v) const { return log ? std::log10(v) : v; }
  double operator()(double v) const {
    return px_lo + (t(v) - t(lo)) / (t(hi) - t(lo)) * (px_hi - px_lo);
  }
  bool contains(double v) const {
    const double eps = 1e-9 * (std::abs(hi) + std::abs(lo) + 1);
    return usable(v, log) && v >= lo - eps && v <= hi + eps;
  }
};

Scale make_scale(const PlotAxis& axis, std::vector<double> values, double px_lo, double px_hi) {
  Scale s;
  s.log = axis.log;
  s.px_lo = px_lo;
  s.px_hi = px_hi;
  std::erase_if(values, [&](double v) { return !usable(v, axis.log); });
  double lo = values.empty() ? (axis.log ? 1 : 0) : *std::min_element(values.begin(), values.end());
  double hi =
      values.empty() ? (axis.log ? 10 : 1) : *std::max_element(values.begin(), values.end());
  if (axis.log) {
    // Pad 6% of the span in log space so markers and labels stay off the frame.
    double llo = std::log10(axis.min.value_or(lo)), lhi = std::log10(axis.max.value_or(hi));
    if (lhi - llo < 1e-9) llo -= 0.5, lhi += 0.5;
    const double pad = 0.06 * (lhi - llo);
    s.lo = axis.min ? *axis.min : std::pow(10.0, llo - pad);
    s.hi = axis.max ? *axis.max : std::pow(10.0, lhi + pad);
    s.ticks = log_ticks(s.lo, s.hi);
    return s;
  }
  if (!axis.min && lo >= 0) lo = 0;  // throughput and latency axes read best from zero
  if (axis.min) lo = *axis.min;
  if (axis.max) hi = *axis.max;
  if (!axis.max) hi += 0.04 * (hi - lo);  // headroom for the top labels
  s.ticks = nice_ticks(lo, hi);
  s.lo = axis.min ? lo : s.ticks.front();
  s.hi = axis.max ? hi : s.ticks.back();
  if (axis.min || axis.max)
    std::erase_if(s.ticks, [&](double v) { return v < s.lo - 1e-12 || v > s.hi + 1e-12; });
  if (s.hi <= s.lo) s.hi = s.lo + 1;
  return s;
}

std::string num(double v) {
  return fmt::format("{:.1f}", v);
}

struct Box {
  double x0, y0, x1, y1;
  double overlap(const Box& o) const {
    const double w = std::min(x1, o.x1) - std::max(x0, o.x0);
    const double h = std::min(y1, o.y1) - std::max(y0, o.y0);
    return w > 0 && h > 0 ? w * h : 0;
  }
};

// Rough text width: SVG has no text metrics, so labels are placed with an estimate from the
// advance widths of DejaVu Sans (the first font asked for), in ems, by character class.
double text_width(std::string_view text, double font_size) {
  double ems = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) == 0x80) continue;  // UTF-8 continuation byte
    if (c == ' ' || c == '.' || c == ',' || c == ':' || c == 'i' || c == 'l' || c == 'j') {
      ems += 0.32;
    } else if (c == 'm' || c == 'w' || c == 'M' || c == 'W') {
      ems += 0.95;
    } else if (c == '=' || c == '+' || c == '<' || c == '>') {
      ems += 0.84;
    } else if (c == 'r' || c == 't' || c == 'f' || c == '(' || c == ')') {
      ems += 0.41;
    } else if (c >= 'A' && c <= 'Z') {
      ems += 0.72;
    } else {
      ems += 0.62;  // digits 0.64, most lower case 0.55-0.63, other code points a guess
    }
  }
  return ems * font_size;
}

// Places point labels around their markers, avoiding other labels, markers and the frame.
class LabelPlacer {
 public:
  explicit LabelPlacer(Box area) : area_(area) {}
  void add_obstacle(Box b) { taken_.push_back(b); }
  // Lines may be crossed by a label, but less is better: sampled as small boxes of low weight.
  void add_line(double x0, double y0, double x1, double y1) {
    const int n = 1 + static_cast<int>(std::hypot(x1 - x0, y1 - y0) / 4);
    for (int i = 0; i <= n; ++i) {
      const double x = x0 + (x1 - x0) * i / n, y = y0 + (y1 - y0) * i / n;
      lines_.push_back(Box{x - 1.5, y - 1.5, x + 1.5, y + 1.5});
    }
  }

  // Returns the SVG <text> element for a label next to the marker at (px, py). A `bold` label
  // (the frontier's) is always drawn; another one is left out ("" returned) when every position
  // would cover a label or marker already there: a missing label reads better than a pile.
  std::string place(double px, double py, const std::string& label, bool bold) {
    const double w = text_width(label, kLabelFont) * (bold ? 1.1 : 1.0), h = kLabelFont;
    struct Candidate {
      double dx, dy;  // offset of the text box's left/baseline from the marker
    };
    const std::array<Candidate, 8> candidates = {{{8, 4},
                                                  {-8 - w, 4},
                                                  {-w / 2, -9},
                                                  {-w / 2, 9 + h},
                                                  {6, -7},
                                                  {6, 7 + h},
                                                  {-6 - w, -7},
                                                  {-6 - w, 7 + h}}};
    double best_cost = std::numeric_limits<double>::infinity(), best_covered = 0;
    Box best{};
    for (const Candidate& c : candidates) {
      const Box b{px + c.dx, py + c.dy - h, px + c.dx + w, py + c.dy + 2};
      double covered = 0;
      for (const Box& t : taken_) covered += t.overlap(b);
      double cost = covered;
      for (const Box& t : lines_) cost += 0.5 * t.overlap(b);
      // Leaving the plot area is worse than touching another label.
      const double outside = w * h - Box{area_}.overlap(b);
      cost += 4 * outside;
      if (cost < best_cost - 1e-9) best_cost = cost, best = b, best_covered = covered;
      if (cost == 0) break;
    }
    if (!bold && best_covered > 4) return "";
    taken_.push_back(best);
    return fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"{}\"{} fill=\"#222\" stroke=\"#fff\" "
        "stroke-width=\"3\" stroke-opacity=\"0.85\" paint-order=\"stroke\">{}</text>\n",
        num(best.x0), num(best.y1 - 2), kLabelFont, bold ? " font-weight=\"bold\"" : "",
        xml_escape(label));
  }

 private:
  Box area_;
  std::vector<Box> taken_;
  std::vector<Box> lines_;
};

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters other than tab/newline are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {0, 1};
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {
    const double d = lo == 0 ? 1 : std::abs(lo) * 0.5;
    lo -= d, hi += d;
  }
  const double raw = (hi - lo) / std::max(1, target - 1);
  int k = static_cast<int>(std::floor(std::log10(raw)));
  int m = 10;
  for (int c : {1, 2, 5})
    if (c * std::pow(10.0, k) >= raw * (1 - 1e-9)) {
      m = c;
      break;
    }
  if (m == 10) m = 1, ++k;
  // Tick n is n * m * 10^k, computed so that decimal steps stay exact (0.6, not 0.6000000001).
  const double scale = std::pow(10.0, std::abs(k));
  auto tick = [&](int64_t n) {
    const double units = static_cast<double>(n * m);
    return k >= 0 ? units * scale : units / scale;
  };
  const double step = tick(1);
  const auto first = static_cast<int64_t>(std::floor(lo / step + 1e-9));
  const auto last = static_cast<int64_t>(std::ceil(hi / step - 1e-9));
  std::vector<double> ticks;
  for (int64_t n = first; n <= last && ticks.size() < 1000; ++n) ticks.push_back(tick(n));
  return ticks;
}

std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> all, decades;
  if (!(lo > 0) || !(hi > lo)) return {};
  const double eps = 1e-9;
  for (int k = static_cast<int>(std::floor(std::log10(lo))); k <= std::ceil(std::log10(hi)); ++k) {
    for (double m : {1.0, 2.0, 5.0}) {
      const double v = m * std::pow(10.0, k);
      if (v < lo * (1 - eps) || v > hi * (1 + eps)) continue;
      all.push_back(v);
      if (m == 1) decades.push_back(v);
    }
  }
  if (all.size() > 10 && decades.size() >= 2) return decades;
  if (all.size() >= 2) return all;
  std::vector<double> lin = nice_ticks(lo, hi, 4);
  std::erase_if(lin, [&](double v) { return v < lo * (1 - eps) || v > hi * (1 + eps); });
  return lin;
}

std::string format_tick(double v) {
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (a >= 1e9) return fmt::format("{:.3g}G", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.3g}M", v / 1e6);
  if (a >= 1e4) return fmt::format("{:.3g}k", v / 1e3);
  if (a >= 1e-3) return fmt::format("{:.4g}", v);
  return fmt::format("{:.2g}", v);
}

std::string render_svg(const PlotSpec& spec) {
  const double width = std::max(spec.width, 320), height = std::max(spec.height, 240);
  const double legend_w = 200;
  const double left = 78, right = width - legend_w - 16;
  const double top = spec.subtitle.empty() ? 52 : 70, bottom = height - 58;

  std::vector<double> xs, ys;
  auto collect = [&](const std::vector<PlotPoint>& pts) {
    for (const PlotPoint& p : pts) xs.push_back(p.x), ys.push_back(p.y);
  };
  for (const PlotSeries& s : spec.series) collect(s.points);
  if (spec.frontier) collect(spec.frontier->points);
  const Scale sx = make_scale(spec.x, xs, left, right);
  const Scale sy = make_scale(spec.y, ys, bottom, top);
  auto visible = [&](const PlotPoint& p) { return sx.contains(p.x) && sy.contains(p.y); };

  std::string out;
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"{2}\">\n",
      width, height, kFont);
  out += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", width,
                     height);
  out += fmt::format(
      "<text x=\"{}\" y=\"28\" font-size=\"18\" font-weight=\"bold\" fill=\"#111\">{}</text>\n",
      num(left), xml_escape(spec.title));
  if (!spec.subtitle.empty())
    out += fmt::format("<text x=\"{}\" y=\"50\" font-size=\"12\" fill=\"#555\">{}</text>\n",
                       num(left), xml_escape(spec.subtitle));

  // Grid and tick labels.
  out += "<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n";
  for (double t : sx.ticks)
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", num(sx(t)),
                       num(top), num(bottom));
  for (double t : sy.ticks)
    out += fmt::format("<line x1=\"{1}\" y1=\"{0}\" x2=\"{2}\" y2=\"{0}\"/>\n", num(sy(t)),
                       num(left), num(right));
  out += "</g>\n<g font-size=\"12\" fill=\"#333\">\n";
  for (double t : sx.ticks)
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", num(sx(t)),
                       num(bottom + 18), xml_escape(format_tick(t)));
  for (double t : sy.ticks)
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", num(left - 8),
                       num(sy(t) + 4), xml_escape(format_tick(t)));
  out += "</g>\n";
  out += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\" "
      "stroke-width=\"1\"/>\n",
      num(left), num(top), num(right - left), num(bottom - top));
  const double mid_y = (top + bottom) / 2;
  out += fmt::format(
      "<text x=\"{}\" y=\"{}\" font-size=\"13\" text-anchor=\"middle\" fill=\"#111\">{}{}</text>\n",
      num((left + right) / 2), num(height - 16), xml_escape(spec.x.label),
      spec.x.log ? " (log scale)" : "");
  out += fmt::format(
      "<text x=\"{0}\" y=\"{1}\" font-size=\"13\" text-anchor=\"middle\" fill=\"#111\" "
      "transform=\"rotate(-90 {0} {1})\">{2}{3}</text>\n",
      num(20), num(mid_y), xml_escape(spec.y.label), spec.y.log ? " (log scale)" : "");

  LabelPlacer labels(Box{left, top, right, bottom});
  std::string label_svg;

  // The frontier first, underneath the series: a wide translucent band through its points.
  if (spec.frontier) {
    std::vector<const PlotPoint*> fp;
    for (const PlotPoint& p : spec.frontier->points)
      if (visible(p)) fp.push_back(&p);
    if (!fp.empty()) {
      // Pixel vertices of the band, with the corner of each step between two points.
      std::vector<std::pair<double, double>> band;
      for (size_t i = 0; i < fp.size(); ++i) {
        const double x = sx(fp[i]->x), y = sy(fp[i]->y);
        if (i > 0 && spec.frontier->style == FrontierStyle::kStepHV)
          band.emplace_back(x, band.back().second);
        if (i > 0 && spec.frontier->style == FrontierStyle::kStepVH)
          band.emplace_back(band.back().first, y);
        band.emplace_back(x, y);
      }
      std::string path;
      for (size_t i = 0; i < band.size(); ++i) {
        path += fmt::format(" {},{}", num(band[i].first), num(band[i].second));
        // Labels should not sit on the band either.
        if (i > 0)
          labels.add_line(band[i - 1].first, band[i - 1].second, band[i].first, band[i].second);
      }
      out += fmt::format(
          "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"9\" "
          "stroke-opacity=\"0.55\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n",
          path.substr(1), kFrontierColor);
      for (const PlotPoint* p : fp) {
        const double x = sx(p->x), y = sy(p->y);
        out += fmt::format(
            "<circle cx=\"{}\" cy=\"{}\" r=\"9\" fill=\"none\" stroke=\"#B8860B\" "
            "stroke-width=\"2\"/>\n",
            num(x), num(y));
        labels.add_obstacle(Box{x - 9, y - 9, x + 9, y + 9});
      }
    }
  }

  // Series: thin lines, then markers; markers are obstacles for every label.
  std::vector<std::string> colors;
  size_t next_color = 0;
  for (const PlotSeries& s : spec.series)
    colors.push_back(!s.color.empty() ? s.color : kPalette[next_color++ % kPalette.size()]);
  for (size_t si = 0; si < spec.series.size(); ++si) {
    const PlotSeries& s = spec.series[si];
    std::string path;
    size_t n = 0;
    double prev_x = 0, prev_y = 0;
    for (const PlotPoint& p : s.points) {
      if (!visible(p)) continue;
      const double x = sx(p.x), y = sy(p.y);
      path += fmt::format(" {},{}", num(x), num(y));
      if (s.connect && n++ > 0) labels.add_line(prev_x, prev_y, x, y);
      prev_x = x, prev_y = y;
    }
    if (s.connect && n >= 2)
      out += fmt::format(
          "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" "
          "stroke-opacity=\"0.8\"/>\n",
          path.substr(1), xml_escape(colors[si]));
    for (const PlotPoint& p : s.points) {
      if (!visible(p)) continue;
      const double x = sx(p.x), y = sy(p.y);
      out += fmt::format(
          "<circle cx=\"{}\" cy=\"{}\" r=\"4.5\" fill=\"{}\" stroke=\"#fff\" "
          "stroke-width=\"1\"/>\n",
          num(x), num(y), xml_escape(colors[si]));
      labels.add_obstacle(Box{x - 5, y - 5, x + 5, y + 5});
    }
  }
  // Labels last so that they sit on top; frontier labels are placed first (and bold).
  if (spec.frontier)
    for (const PlotPoint& p : spec.frontier->points)
      if (visible(p) && !p.label.empty())
        label_svg += labels.place(sx(p.x), sy(p.y), p.label, true);
  for (const PlotSeries& s : spec.series)
    for (const PlotPoint& p : s.points) {
      if (!visible(p) || p.label.empty()) continue;
      const bool on_frontier =
          spec.frontier &&
          std::any_of(spec.frontier->points.begin(), spec.frontier->points.end(),
                      [&](const PlotPoint& f) { return f.x == p.x && f.y == p.y; });
      if (!on_frontier) label_svg += labels.place(sx(p.x), sy(p.y), p.label, false);
    }
  if (!label_svg.empty())
    out += "<g font-family=\"" + std::string(kFont) + "\">\n" + label_svg + "</g>\n";

  // Legend, right of the plot.
  const double lx = right + 18;
  double ly = top + 8;
  out += "<g font-size=\"12\" fill=\"#222\">\n";
  for (size_t si = 0; si < spec.series.size(); ++si) {
    out += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1.5\"/>\n",
        num(lx), num(ly), num(lx + 22), num(ly), xml_escape(colors[si]));
    out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"4.5\" fill=\"{}\"/>\n", num(lx + 11),
                       num(ly), xml_escape(colors[si]));
    out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", num(lx + 30), num(ly + 4),
                       xml_escape(spec.series[si].name));
    ly += 20;
  }
  if (spec.frontier) {
    out += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"9\" "
        "stroke-opacity=\"0.55\" stroke-linecap=\"round\"/>\n",
        num(lx + 2), num(ly), num(lx + 20), num(ly), kFrontierColor);
    out += fmt::format(
        "<circle cx=\"{}\" cy=\"{}\" r=\"7\" fill=\"none\" stroke=\"#B8860B\" "
        "stroke-width=\"2\"/>\n",
        num(lx + 11), num(ly));
    out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", num(lx + 30), num(ly + 4),
                       xml_escape(spec.frontier->name));
  }
  out += "</g>\n</svg>\n";
  return out;
}

}  // namespace pareto::bench
