#include "bench/svg_plot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "support/test_paths.h"

namespace pareto::bench {
namespace {

// A minimal well-formedness check: every tag closes in order, attribute values are quoted,
// nothing but known entities follows '&'. Returns "" when fine, else what is wrong; counts the
// elements by name.
std::string check_xml(const std::string& doc, std::map<std::string, int>* counts) {
  std::vector<std::string> stack;
  size_t i = 0;
  if (doc.rfind("<?xml", 0) == 0) i = doc.find("?>") + 2;
  while (i < doc.size()) {
    const size_t lt = doc.find('<', i);
    const std::string text = doc.substr(i, lt == std::string::npos ? std::string::npos : lt - i);
    for (size_t a = text.find('&'); a != std::string::npos; a = text.find('&', a + 1)) {
      static const std::regex entity("&(amp|lt|gt|quot|apos);.*");
      if (!std::regex_match(text.substr(a, 8) + std::string(8, ' '), entity))
        return "bad entity in text: " + text.substr(a, 10);
    }
    if (text.find('>') != std::string::npos) return "stray '>' in text";
    if (lt == std::string::npos) break;
    const size_t gt = doc.find('>', lt);
    if (gt == std::string::npos) return "unterminated tag";
    std::string tag = doc.substr(lt + 1, gt - lt - 1);
    if (tag.find('<') != std::string::npos) return "'<' inside a tag: " + tag;
    i = gt + 1;
    if (tag[0] == '/') {
      if (stack.empty() || stack.back() != tag.substr(1)) return "mismatched </" + tag.substr(1);
      stack.pop_back();
      continue;
    }
    const bool self_closing = tag.back() == '/';
    if (self_closing) tag.pop_back();
    const std::string name = tag.substr(0, tag.find_first_of(" \n"));
    // Attributes: name="value" pairs and nothing else.
    static const std::regex attrs(R"(^[a-zA-Z][\w:-]*(\s+[a-zA-Z][\w:-]*="[^"<]*")*\s*$)");
    if (!std::regex_match(tag, attrs)) return "bad attributes: " + tag;
    ++(*counts)[name];
    if (!self_closing) stack.push_back(name);
  }
  return stack.empty() ? "" : "unclosed <" + stack.back() + ">";
}

std::vector<double> attr_values(const std::string& doc, const std::string& attr) {
  std::vector<double> v;
  const std::regex re(" " + attr + "=\"(-?[0-9.]+)\"");
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), re); it != std::sregex_iterator();
       ++it)
    v.push_back(std::stod((*it)[1]));
  return v;
}

PlotSeries series(std::string name, std::vector<PlotPoint> points) {
  PlotSeries s;
  s.name = std::move(name);
  s.points = std::move(points);
  return s;
}

PlotSpec example() {
  PlotSpec spec;
  spec.title = "Throughput vs latency <stories260K & friends>";
  spec.subtitle = "random 16 in / 8 out tokens, median of 2 runs";
  spec.x.label = "median E2E latency (ms)";
  spec.y.label = "output tokens/s";
  spec.series.push_back(series(
      "mns=2 r=1",
      {{120, 60, "mns=2 r=1 c=1"}, {260, 110, "mns=2 r=1 c=4"}, {540, 118, "mns=2 r=1 c=16"}}));
  spec.series.push_back(series(
      "mns=8 r=1",
      {{125, 58, "mns=8 r=1 c=1"}, {180, 190, "mns=8 r=1 c=4"}, {420, 330, "mns=8 r=1 c=16"}}));
  spec.frontier = PlotFrontier{};
  spec.frontier->points = {
      {120, 60, "mns=2 r=1 c=1"}, {180, 190, "mns=8 r=1 c=4"}, {420, 330, "mns=8 r=1 c=16"}};
  spec.frontier->style = FrontierStyle::kStepHV;
  return spec;
}

TEST(SvgPlot, WellFormedWithExpectedElements) {
  const std::string svg = render_svg(example());
  std::map<std::string, int> counts;
  ASSERT_EQ(check_xml(svg, &counts), "");
  EXPECT_EQ(counts["svg"], 1);
  // 6 markers + 3 frontier rings + 2 legend markers + 1 legend ring.
  EXPECT_EQ(counts["circle"], 12);
  // 2 series lines + the frontier.
  EXPECT_EQ(counts["polyline"], 3);
  EXPECT_NE(svg.find("&lt;stories260K &amp; friends&gt;"), std::string::npos);
  // Every point label is drawn once.
  for (const char* label : {"mns=2 r=1 c=16", "mns=8 r=1 c=4", "mns=2 r=1 c=1"})
    EXPECT_NE(svg.find(std::string(">") + label + "</text>"), std::string::npos) << label;
  // The frontier's step line has 2 corner points between its 3 points.
  const std::smatch m = [&] {
    std::smatch r;
    std::regex_search(svg, r, std::regex("<polyline points=\"([^\"]*)\"[^>]*stroke-width=\"9\""));
    return r;
  }();
  ASSERT_FALSE(m.empty());
  const std::string pts = m[1];
  EXPECT_EQ(std::count(pts.begin(), pts.end(), ','), 5);
}

TEST(SvgPlot, CoordinatesInsideTheViewBox) {
  PlotSpec spec = example();
  spec.width = 800;
  spec.height = 500;
  for (bool log : {false, true}) {
    spec.x.log = spec.y.log = log;
    const std::string svg = render_svg(spec);
    std::map<std::string, int> counts;
    ASSERT_EQ(check_xml(svg, &counts), "");
    EXPECT_NE(svg.find("viewBox=\"0 0 800 500\""), std::string::npos);
    for (const char* a : {"x", "cx", "x1", "x2"})
      for (double v : attr_values(svg, a)) EXPECT_TRUE(v >= 0 && v <= 800) << a << "=" << v;
    for (const char* a : {"y", "cy", "y1", "y2"})
      for (double v : attr_values(svg, a)) EXPECT_TRUE(v >= 0 && v <= 500) << a << "=" << v;
  }
}

TEST(SvgPlot, LogAxisDropsNonPositiveAndNonFinite) {
  PlotSpec spec;
  spec.x.log = true;
  spec.series.push_back(series(
      "s", {{0, 1, ""}, {-3, 2, ""}, {10, 3, ""}, {100, 4, ""}, {NAN, 5, ""}, {INFINITY, 6, ""}}));
  const std::string svg = render_svg(spec);
  std::map<std::string, int> counts;
  ASSERT_EQ(check_xml(svg, &counts), "");
  EXPECT_EQ(counts["circle"], 2 + 1);  // two plotted points + the legend marker
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}

TEST(SvgPlot, EmptyPlotIsStillValid) {
  const std::string svg = render_svg(PlotSpec{});
  std::map<std::string, int> counts;
  EXPECT_EQ(check_xml(svg, &counts), "");
  EXPECT_EQ(counts["circle"], 0);
}

TEST(SvgPlot, NiceTicks) {
  EXPECT_EQ(nice_ticks(0, 10, 6), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(nice_ticks(0, 330, 6), (std::vector<double>{0, 100, 200, 300, 400}));
  EXPECT_EQ(nice_ticks(0.1, 0.93, 6), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1.0}));
  EXPECT_EQ(nice_ticks(-7, 12, 5), (std::vector<double>{-10, -5, 0, 5, 10, 15}));
  EXPECT_EQ(nice_ticks(5, 5, 6), (std::vector<double>{2, 3, 4, 5, 6, 7, 8}));
  for (double hi : {0.003, 7.0, 123.0, 98765.0}) {
    const std::vector<double> t = nice_ticks(0, hi);
    EXPECT_LE(t.front(), 0);
    EXPECT_GE(t.back(), hi);
    EXPECT_LE(t.size(), 9u);
  }
}

TEST(SvgPlot, LogTicks) {
  EXPECT_EQ(log_ticks(1, 100), (std::vector<double>{1, 2, 5, 10, 20, 50, 100}));
  EXPECT_EQ(log_ticks(3, 60), (std::vector<double>{5, 10, 20, 50}));
  EXPECT_EQ(log_ticks(0.5, 1e6), (std::vector<double>{1, 10, 100, 1000, 1e4, 1e5, 1e6}));
  // Too narrow for two 1-2-5 ticks: linear ones inside the range.
  EXPECT_EQ(log_ticks(120, 180), (std::vector<double>{120, 140, 160, 180}));
  EXPECT_TRUE(log_ticks(0, 10).empty());
}

TEST(SvgPlot, FormatTickAndEscape) {
  EXPECT_EQ(format_tick(0), "0");
  EXPECT_EQ(format_tick(0.5), "0.5");
  EXPECT_EQ(format_tick(250), "250");
  EXPECT_EQ(format_tick(2500), "2500");
  EXPECT_EQ(format_tick(12500), "12.5k");
  EXPECT_EQ(format_tick(3e6), "3M");
  EXPECT_EQ(format_tick(-40), "-40");
  EXPECT_EQ(xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(xml_escape(std::string("x\x01y")), "x y");
}

// Leaves an example in the scratch directory, to look at (rsvg-convert it to PNG).
TEST(SvgPlot, WritesExampleFile) {
  const std::string path = test::scratch_dir() + "/svg_plot_example.svg";
  std::ofstream(path) << render_svg(example());
  EXPECT_FALSE(test::read_file(path).empty());
}

}  // namespace
}  // namespace pareto::bench
