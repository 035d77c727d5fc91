// Plots as inline SVG for txnbench's HTML report: line charts (linear or logarithmic x) and
// grouped bar charts, several series overlaid with a legend. No JavaScript, no external file:
// the page is one self-contained document. The output is well-formed XML.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace txnbench {

struct chart_series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending
};

struct chart_axes {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_x = false;  // x must then be > 0
};

std::string line_chart_svg(const chart_axes& axes, const std::vector<chart_series>& series);

// One group of bars per category, one bar per series (values[series][category]).
std::string bar_chart_svg(const chart_axes& axes, const std::vector<std::string>& categories,
                          const std::vector<std::string>& series_names, const std::vector<std::vector<double>>& values);

// Escapes &, <, >, " and ' for HTML/XML text and attributes.
std::string xml_escape(std::string_view text);

}  // namespace txnbench
