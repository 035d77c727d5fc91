#include "svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace txnbench {

namespace {

constexpr double width = 760, height = 330, left = 78, right = 24, top = 36, bottom = 50;
constexpr const char* palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};
const char* color(std::size_t i) { return palette[i % std::size(palette)]; }

// Maps data values to pixels, linearly or by decimal logarithm.
struct scale {
  double lo, hi;
  bool log;
  double px_lo, px_hi;
  double operator()(double v) const {
    const double t = log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
    return px_lo + t * (px_hi - px_lo);
  }
};

std::string num(double v) {
  char buf[32];
  if (std::abs(v) >= 1e6 || (std::abs(v) < 1e-3 && v != 0)) std::snprintf(buf, sizeof buf, "%.3g", v);
  else std::snprintf(buf, sizeof buf, "%.6g", std::round(v * 1000) / 1000);
  return buf;
}

// 1, 2 or 5 times a power of ten, near range / ticks.
double nice_step(double range, int ticks) {
  const double raw = range / ticks;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
}

std::vector<double> ticks_of(const scale& s) {
  std::vector<double> ticks;
  if (s.log) {
    for (double decade = std::pow(10, std::floor(std::log10(s.lo))); decade <= s.hi; decade *= 10)
      for (double m : {1.0, 2.0, 5.0})
        if (m * decade >= s.lo && m * decade <= s.hi) ticks.push_back(m * decade);
    return ticks;
  }
  const double step = nice_step(s.hi - s.lo, 5);
  for (double v = std::ceil(s.lo / step) * step; v <= s.hi + step * 1e-9; v += step) ticks.push_back(v);
  return ticks;
}

// The data range, widened when empty or flat so that every scale is well defined.
std::pair<double, double> padded_range(double lo, double hi, bool log) {
  if (!(lo <= hi)) return log ? std::pair{1.0, 10.0} : std::pair{0.0, 1.0};
  if (log) return lo == hi ? std::pair{lo / 2, hi * 2} : std::pair{lo, hi};
  return lo == hi ? std::pair{lo - 1, hi + 1} : std::pair{lo, hi};
}

void open_chart(std::string& out, const chart_axes& a) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                "role=\"img\" font-family=\"sans-serif\" font-size=\"11\">\n",
                width, height, width, height);
  out += buf;
  out += "<title>" + xml_escape(a.title) + "</title>\n";
  out += "<text x=\"" + num(width / 2) + "\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">" + xml_escape(a.title) +
         "</text>\n";
}

void draw_axes(std::string& out, const chart_axes& a, const scale& x, const scale& y, bool x_ticks) {
  const auto line = [&](double x1, double y1, double x2, double y2, const char* stroke) {
    out += "<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" + num(y2) +
           "\" stroke=\"" + stroke + "\"/>\n";
  };
  for (double v : ticks_of(y)) {
    line(left, y(v), width - right, y(v), "#e5e5e5");
    out += "<text x=\"" + num(left - 6) + "\" y=\"" + num(y(v) + 4) + "\" text-anchor=\"end\">" + num(v) + "</text>\n";
  }
  if (x_ticks)
    for (double v : ticks_of(x)) {
      line(x(v), height - bottom, x(v), height - bottom + 4, "#444");
      out += "<text x=\"" + num(x(v)) + "\" y=\"" + num(height - bottom + 16) + "\" text-anchor=\"middle\">" + num(v) +
             "</text>\n";
    }
  line(left, height - bottom, width - right, height - bottom, "#444");
  line(left, top, left, height - bottom, "#444");
  out += "<text x=\"" + num((left + width - right) / 2) + "\" y=\"" + num(height - 12) + "\" text-anchor=\"middle\">" +
         xml_escape(a.x_label) + "</text>\n";
  out += "<text transform=\"translate(16 " + num((top + height - bottom) / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + xml_escape(a.y_label) + "</text>\n";
}

void draw_legend(std::string& out, const std::vector<std::string>& names) {
  // A white box under the legend keeps it readable over the lines it covers.
  out += "<rect x=\"" + num(width - right - 176) + "\" y=\"" + num(top) + "\" width=\"172\" height=\"" +
         num(8 + 16 * static_cast<double>(names.size())) + "\" fill=\"white\" fill-opacity=\"0.85\"/>\n";
  double y = top + 4;
  for (std::size_t i = 0; i < names.size(); ++i, y += 16) {
    out += "<rect x=\"" + num(width - right - 170) + "\" y=\"" + num(y) + "\" width=\"12\" height=\"10\" fill=\"" +
           color(i) + "\"/>\n";
    out +=
        "<text x=\"" + num(width - right - 153) + "\" y=\"" + num(y + 9) + "\">" + xml_escape(names[i]) + "</text>\n";
  }
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string line_chart_svg(const chart_axes& a, const std::vector<chart_series>& series) {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_hi = 0;
  for (const auto& s : series)
    for (auto [x, y] : s.points) {
      if (a.log_x && x <= 0) continue;
      x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x), y_hi = std::max(y_hi, y);
    }
  const auto [xl, xh] = padded_range(x_lo, x_hi, a.log_x);
  const scale x{xl, xh, a.log_x, left, width - right};
  const scale y{0, y_hi > 0 ? y_hi * 1.05 : 1, false, height - bottom, top};
  std::string out;
  open_chart(out, a);
  draw_axes(out, a, x, y, true);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < series.size(); ++i) {
    names.push_back(series[i].name);
    std::string points;
    for (auto [px, py] : series[i].points)
      if (!a.log_x || px > 0) points += num(x(px)) + "," + num(y(py)) + " ";
    out += "<polyline fill=\"none\" stroke-width=\"1.8\" stroke=\"" + std::string(color(i)) + "\" points=\"" + points +
           "\"/>\n";
  }
  draw_legend(out, names);
  return out + "</svg>\n";
}

std::string bar_chart_svg(const chart_axes& a, const std::vector<std::string>& categories,
                          const std::vector<std::string>& series_names,
                          const std::vector<std::vector<double>>& values) {
  double y_hi = 0;
  for (const auto& row : values)
    for (double v : row) y_hi = std::max(y_hi, v);
  const double slot = (width - left - right) / static_cast<double>(std::max<std::size_t>(1, categories.size()));
  const double bar = slot * 0.7 / static_cast<double>(std::max<std::size_t>(1, series_names.size()));
  const scale x{0, 1, false, left, width - right};
  const scale y{0, y_hi > 0 ? y_hi * 1.1 : 1, false, height - bottom, top};
  std::string out;
  open_chart(out, a);
  draw_axes(out, a, x, y, false);
  for (std::size_t c = 0; c < categories.size(); ++c) {
    const double slot_left = left + slot * static_cast<double>(c);
    out += "<text x=\"" + num(slot_left + slot / 2) + "\" y=\"" + num(height - bottom + 16) +
           "\" text-anchor=\"middle\">" + xml_escape(categories[c]) + "</text>\n";
    for (std::size_t s = 0; s < values.size(); ++s) {
      const double v = c < values[s].size() ? values[s][c] : 0;
      const double bx = slot_left + slot * 0.15 + bar * static_cast<double>(s);
      out += "<rect x=\"" + num(bx) + "\" y=\"" + num(y(v)) + "\" width=\"" + num(bar * 0.95) + "\" height=\"" +
             num(y(0) - y(v)) + "\" fill=\"" + color(s) + "\"><title>" + xml_escape(series_names[s]) + ": " + num(v) +
             "</title></rect>\n";
    }
  }
  draw_legend(out, series_names);
  return out + "</svg>\n";
}

}  // namespace txnbench
