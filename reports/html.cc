#include "reports/html.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "reports/escape.h"

namespace wpsim::reports {
namespace {

std::string E(std::string_view s) { return XmlEscape(s, /*attribute=*/true); }
std::string Text(std::string_view s) { return XmlEscape(s, /*attribute=*/false); }

// Fixed-point number for SVG coordinates (locale-free, deterministic).
std::string F(double v, int decimals = 1) {
  char buf[64];
  if (!std::isfinite(v)) v = 0;
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  std::string s(buf, res.ptr);
  if (s == "-0.0" || s == "-0") s = s.substr(1);
  return s;
}

std::string Ns(double ns) { return FormatDurationNs(ns); }

std::string Truncate(std::string_view s, size_t max_chars) {
  // Counts UTF-8 characters; never cuts inside one.
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (chars == max_chars) return std::string(s.substr(0, i)) + "…";
    ++chars;
  }
  return std::string(s);
}

constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd",
                                    "#8c564b", "#e377c2", "#17becf", "#7f7f7f"};

constexpr std::string_view kCss = R"css(
:root { --pass: #1a7f37; --fail: #cf222e; --skip: #9a6700; --error: #8250df; --muted: #57606a;
        --line: #d0d7de; --bg-soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem 3rem; color: #1f2328; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .85em; }
pre { background: var(--bg-soft); padding: .6rem .8rem; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid var(--line); padding: .25rem .55rem; text-align: left; vertical-align: top; }
th { background: var(--bg-soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.status { font-weight: 700; text-transform: uppercase; font-size: .8rem; letter-spacing: .03em; white-space: nowrap; }
.status.pass { color: var(--pass); } .status.fail { color: var(--fail); }
.status.skip { color: var(--skip); } .status.error { color: var(--error); }
.verdict { display: inline-block; padding: .35rem .8rem; border-radius: 6px; color: #fff; font-weight: 700; margin-bottom: .8rem; }
.verdict.pass { background: var(--pass); } .verdict.conformance_failure { background: var(--fail); }
.verdict.threshold_failure { background: var(--skip); }
.injected { border-left: 4px solid var(--skip); padding: .3rem .6rem; background: var(--bg-soft); }
.counts { display: flex; gap: .8rem; flex-wrap: wrap; margin: .4rem 0 1rem; }
.count { border: 1px solid var(--line); border-radius: 6px; padding: .4rem .9rem; min-width: 7rem; }
.count b { display: block; font-size: 1.6rem; }
.facts th { width: 11rem; }
details.scenario { border: 1px solid var(--line); border-radius: 6px; margin: .8rem 0; padding: .2rem .9rem; }
details.scenario > summary { cursor: pointer; padding: .4rem 0; font-weight: 600; }
details.scenario.fail, details.scenario.error { border-left: 4px solid var(--fail); }
.muted { color: var(--muted); }
.failure { border-left: 3px solid var(--fail); padding: .2rem .7rem; margin: .5rem 0; background: #fff5f5; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem; }
svg { background: #fff; border: 1px solid var(--line); border-radius: 6px; max-width: 100%; height: auto; }
svg text { font-family: system-ui, sans-serif; font-size: 11px; fill: #1f2328; }
svg .axis { stroke: #57606a; stroke-width: 1; }
svg .grid { stroke: #eaeef2; stroke-width: 1; }
svg .bar { fill: #1f77b4; }
svg .title { font-size: 12px; font-weight: 600; }
svg .lifeline { stroke: #8c959f; stroke-dasharray: 4 3; }
svg .lifeline-box { fill: var(--bg-soft); stroke: #8c959f; }
svg .arrow { stroke: #1f2328; stroke-width: 1.2; fill: none; }
svg .arrow.highlighted { stroke: var(--fail); stroke-width: 2.5; }
svg text.highlighted { fill: var(--fail); font-weight: 700; }
svg .violation { fill: #fff5f5; stroke: var(--fail); stroke-width: 1.5; }
body.only-failing tr.scenario-row.pass, body.only-failing tr.scenario-row.skip,
body.only-failing details.scenario.pass, body.only-failing details.scenario.skip { display: none; }
.toolbar { margin: .5rem 0; font-size: .9rem; }
)css";

// The only script: a "failing only" filter. The page is complete without it.
constexpr std::string_view kScript = R"js(
(function () {
  var box = document.getElementById('only-failing');
  if (!box) return;
  box.disabled = false;
  box.addEventListener('change', function () {
    document.body.classList.toggle('only-failing', box.checked);
  });
})();
)js";

// --- Plots --------------------------------------------------------------------------------

struct Frame {
  double width = 620, height = 260;
  double left = 64, right = 30, top = 28, bottom = 42;
  double plot_w() const { return width - left - right; }
  double plot_h() const { return height - top - bottom; }
};

std::string SvgOpen(const Frame& f, std::string_view cls, std::string_view label) {
  return "<svg class=\"" + std::string(cls) + "\" role=\"img\" aria-label=\"" + E(label) +
         "\" viewBox=\"0 0 " + F(f.width, 0) + " " + F(f.height, 0) + "\" width=\"" +
         F(f.width, 0) + "\" height=\"" + F(f.height, 0) + "\">\n<title>" + Text(label) +
         "</title>\n";
}

// Decade ticks 10^k ns between lo and hi, labelled as durations.
std::vector<double> Decades(double lo_exp, double hi_exp) {
  std::vector<double> out;
  for (double e = lo_exp; e <= hi_exp + 1e-9; e += 1) out.push_back(e);
  return out;
}

// Histogram over log-spaced latency bins (10 per decade), bars scaled to the fullest bin.
std::string HistogramSvg(const Histogram& h, std::string_view title) {
  Frame f;
  std::string svg = SvgOpen(f, "plot histogram", title);
  svg += "<text class=\"title\" x=\"" + F(f.left) + "\" y=\"16\">" + Text(title) + "</text>\n";
  const double lo = std::max<double>(1, static_cast<double>(h.min()));
  const double hi = std::max<double>(lo * 1.0001, static_cast<double>(h.max()));
  const double lo_exp = std::floor(std::log10(lo));
  double hi_exp = std::ceil(std::log10(hi));
  if (hi_exp <= lo_exp) hi_exp = lo_exp + 1;
  constexpr int kBinsPerDecade = 10;
  const int bins = static_cast<int>((hi_exp - lo_exp) * kBinsPerDecade);
  std::vector<uint64_t> counts(static_cast<size_t>(bins), 0);
  for (const Histogram::Bucket& b : h.NonEmptyBuckets()) {
    const double v = std::max<double>(1, static_cast<double>(h.MedianEquivalent(b.value_ns)));
    int bin = static_cast<int>(std::floor((std::log10(v) - lo_exp) * kBinsPerDecade));
    bin = std::clamp(bin, 0, bins - 1);
    counts[static_cast<size_t>(bin)] += b.count;
  }
  const uint64_t peak = std::max<uint64_t>(1, *std::max_element(counts.begin(), counts.end()));
  const double bw = f.plot_w() / bins;
  for (int i = 0; i < bins; ++i) {
    if (counts[static_cast<size_t>(i)] == 0) continue;
    const double bh = f.plot_h() * static_cast<double>(counts[static_cast<size_t>(i)]) /
                      static_cast<double>(peak);
    const double from = std::pow(10.0, lo_exp + static_cast<double>(i) / kBinsPerDecade);
    const double to = std::pow(10.0, lo_exp + static_cast<double>(i + 1) / kBinsPerDecade);
    svg += "<rect class=\"bar\" x=\"" + F(f.left + i * bw + 0.5) + "\" y=\"" +
           F(f.top + f.plot_h() - bh) + "\" width=\"" + F(std::max(0.5, bw - 1)) +
           "\" height=\"" + F(bh) + "\"><title>" + Text(Ns(from)) + " – " + Text(Ns(to)) + ": " +
           std::to_string(counts[static_cast<size_t>(i)]) + "</title></rect>\n";
  }
  // Axes: x decades, y count at 0, half and peak.
  const double x0 = f.left, y0 = f.top + f.plot_h();
  svg += "<line class=\"axis\" x1=\"" + F(x0) + "\" y1=\"" + F(y0) + "\" x2=\"" +
         F(x0 + f.plot_w()) + "\" y2=\"" + F(y0) + "\"/>\n";
  svg += "<line class=\"axis\" x1=\"" + F(x0) + "\" y1=\"" + F(f.top) + "\" x2=\"" + F(x0) +
         "\" y2=\"" + F(y0) + "\"/>\n";
  for (double e : Decades(lo_exp, hi_exp)) {
    const double x = x0 + (e - lo_exp) / (hi_exp - lo_exp) * f.plot_w();
    svg += "<line class=\"axis\" x1=\"" + F(x) + "\" y1=\"" + F(y0) + "\" x2=\"" + F(x) +
           "\" y2=\"" + F(y0 + 4) + "\"/><text x=\"" + F(x) + "\" y=\"" + F(y0 + 16) +
           "\" text-anchor=\"middle\">" + Text(Ns(std::pow(10.0, e))) + "</text>\n";
  }
  for (int k = 0; k <= 2; ++k) {
    const double y = y0 - f.plot_h() * k / 2.0;
    svg += "<text x=\"" + F(x0 - 6) + "\" y=\"" + F(y + 4) + "\" text-anchor=\"end\">" +
           std::to_string(peak * static_cast<uint64_t>(k) / 2) + "</text>\n";
  }
  svg += "<text x=\"" + F(x0 + f.plot_w() / 2) + "\" y=\"" + F(f.height - 6) +
         "\" text-anchor=\"middle\" class=\"muted\">latency (log scale)</text>\n";
  svg += "</svg>\n";
  return svg;
}

// Latency by percentile, x = 1/(1-p) on a log axis (HdrHistogram's percentile plot).
std::string PercentileSvg(const std::vector<std::pair<std::string, const Histogram*>>& series,
                          std::string_view title) {
  Frame f;
  const size_t legend_rows = (series.size() + 1) / 2;
  f.bottom = 40 + 16 * static_cast<double>(legend_rows);
  f.height = 190 + f.top + f.bottom;
  std::string svg = SvgOpen(f, "plot percentiles", title);
  svg += "<text class=\"title\" x=\"" + F(f.left) + "\" y=\"16\">" + Text(title) + "</text>\n";
  uint64_t max_count = 1;
  int64_t max_value = 1;
  for (const auto& [label, h] : series) {
    max_count = std::max(max_count, h->count());
    max_value = std::max(max_value, h->max());
  }
  // Resolution ends where 1/(1-p) exceeds the sample count.
  const double decades =
      std::clamp(std::ceil(std::log10(static_cast<double>(max_count))), 2.0, 6.0);
  const double y_max = static_cast<double>(max_value) * 1.05;
  const double x0 = f.left, y0 = f.top + f.plot_h();
  for (int k = 0; k <= 4; ++k) {
    const double y = y0 - f.plot_h() * k / 4.0;
    svg += "<line class=\"grid\" x1=\"" + F(x0) + "\" y1=\"" + F(y) + "\" x2=\"" +
           F(x0 + f.plot_w()) + "\" y2=\"" + F(y) + "\"/><text x=\"" + F(x0 - 6) + "\" y=\"" +
           F(y + 4) + "\" text-anchor=\"end\">" + Text(Ns(y_max * k / 4.0)) + "</text>\n";
  }
  static constexpr const char* kLabels[] = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%",
                                            "99.9999%"};
  for (int d = 0; d <= static_cast<int>(decades); ++d) {
    const double x = x0 + d / decades * f.plot_w();
    svg += "<line class=\"grid\" x1=\"" + F(x) + "\" y1=\"" + F(f.top) + "\" x2=\"" + F(x) +
           "\" y2=\"" + F(y0) + "\"/><text x=\"" + F(x) + "\" y=\"" + F(y0 + 16) +
           "\" text-anchor=\"middle\">" + kLabels[d] + "</text>\n";
  }
  svg += "<line class=\"axis\" x1=\"" + F(x0) + "\" y1=\"" + F(y0) + "\" x2=\"" +
         F(x0 + f.plot_w()) + "\" y2=\"" + F(y0) + "\"/>\n";
  svg += "<line class=\"axis\" x1=\"" + F(x0) + "\" y1=\"" + F(f.top) + "\" x2=\"" + F(x0) +
         "\" y2=\"" + F(y0) + "\"/>\n";
  constexpr int kStepsPerDecade = 24;
  const int steps = static_cast<int>(decades) * kStepsPerDecade;
  for (size_t i = 0; i < series.size(); ++i) {
    const Histogram& h = *series[i].second;
    std::vector<double> ps;
    for (int k = 0; k <= steps; ++k) {
      const double x = std::pow(10.0, static_cast<double>(k) / kStepsPerDecade);
      if (x > static_cast<double>(h.count()) * 10 && k > 0) break;
      ps.push_back(100.0 * (1.0 - 1.0 / x));
    }
    const std::vector<int64_t> values = h.ValuesAtPercentiles(ps);
    std::string points;
    for (size_t k = 0; k < ps.size(); ++k) {
      const double xr = std::log10(1.0 / (1.0 - ps[k] / 100.0)) / decades;
      const double x = x0 + std::min(1.0, xr) * f.plot_w();
      const double y = y0 - static_cast<double>(values[k]) / y_max * f.plot_h();
      if (!points.empty()) points += ' ';
      points += F(x) + "," + F(y);
    }
    svg += "<polyline fill=\"none\" stroke-width=\"1.8\" stroke=\"" +
           std::string(kPalette[i % std::size(kPalette)]) + "\" points=\"" + points +
           "\"><title>" + Text(series[i].first) + "</title></polyline>\n";
    // Legend below the axis, two entries per row.
    const double lx = x0 + static_cast<double>(i % 2) * (f.plot_w() / 2);
    const double ly = y0 + 36 + static_cast<double>(i / 2) * 16;
    svg += "<rect x=\"" + F(lx) + "\" y=\"" + F(ly - 9) + "\" width=\"10\" height=\"10\" fill=\"" +
           kPalette[i % std::size(kPalette)] + "\"/><text x=\"" + F(lx + 14) + "\" y=\"" + F(ly) +
           "\">" + Text(Truncate(series[i].first, 44)) + "</text>\n";
  }
  svg += "</svg>\n";
  return svg;
}

std::string ThroughputSvg(const ThroughputSeries& t, std::string_view title, ClockKind clock) {
  Frame f;
  std::string svg = SvgOpen(f, "plot throughput", title);
  svg += "<text class=\"title\" x=\"" + F(f.left) + "\" y=\"16\">" + Text(title) + "</text>\n";
  const double per_second = 1e9 / static_cast<double>(t.interval_ns);
  double peak = 1;
  for (uint64_t c : t.counts) peak = std::max(peak, static_cast<double>(c) * per_second);
  peak *= 1.1;
  const double x0 = f.left, y0 = f.top + f.plot_h();
  const size_t n = std::max<size_t>(1, t.counts.size());
  std::string points = F(x0) + "," + F(y0);
  for (size_t i = 0; i < t.counts.size(); ++i) {
    const double rate = static_cast<double>(t.counts[i]) * per_second;
    const double xa = x0 + static_cast<double>(i) / static_cast<double>(n) * f.plot_w();
    const double xb = x0 + static_cast<double>(i + 1) / static_cast<double>(n) * f.plot_w();
    const double y = y0 - rate / peak * f.plot_h();
    points += " " + F(xa) + "," + F(y) + " " + F(xb) + "," + F(y);
  }
  points += " " + F(x0 + f.plot_w()) + "," + F(y0);
  svg += "<polygon fill=\"#1f77b4\" fill-opacity=\"0.25\" stroke=\"#1f77b4\" points=\"" + points +
         "\"/>\n";
  svg += "<line class=\"axis\" x1=\"" + F(x0) + "\" y1=\"" + F(y0) + "\" x2=\"" +
         F(x0 + f.plot_w()) + "\" y2=\"" + F(y0) + "\"/>\n";
  svg += "<line class=\"axis\" x1=\"" + F(x0) + "\" y1=\"" + F(f.top) + "\" x2=\"" + F(x0) +
         "\" y2=\"" + F(y0) + "\"/>\n";
  for (int k = 0; k <= 4; ++k) {
    const double y = y0 - f.plot_h() * k / 4.0;
    svg += "<text x=\"" + F(x0 - 6) + "\" y=\"" + F(y + 4) + "\" text-anchor=\"end\">" +
           F(peak * k / 4.0, 0) + "/s</text>\n";
  }
  for (int k = 0; k <= 4; ++k) {
    const double x = x0 + f.plot_w() * k / 4.0;
    const double ns = static_cast<double>(t.start_ns) +
                      static_cast<double>(n) * static_cast<double>(t.interval_ns) * k / 4.0;
    svg += "<text x=\"" + F(x) + "\" y=\"" + F(y0 + 16) + "\" text-anchor=\"middle\">" +
           Text(Ns(ns)) + "</text>\n";
  }
  svg += "<text x=\"" + F(x0 + f.plot_w() / 2) + "\" y=\"" + F(f.height - 6) +
         "\" text-anchor=\"middle\">time (" + std::string(ToString(clock)) + ")</text>\n";
  svg += "</svg>\n";
  return svg;
}

// A message sequence diagram: one column per lifeline, one row per arrow in time order.
std::string SequenceSvg(const SequenceDiagram& d, size_t diagram_id, ClockKind clock) {
  constexpr double kGutter = 96, kColumn = 190, kRow = 30, kHeader = 52;
  const size_t columns = std::max<size_t>(1, d.lifelines.size());
  const double width = kGutter + kColumn * static_cast<double>(columns);
  const bool has_violation = !d.violated_expectation.empty();
  const double footer = has_violation ? 64 : 20;
  const double height = kHeader + kRow * static_cast<double>(d.arrows.size() + 1) + footer;
  const std::string marker = "arrowhead-" + std::to_string(diagram_id);
  const std::string marker_hl = "arrowhead-hl-" + std::to_string(diagram_id);
  std::string svg = "<svg class=\"sequence\" role=\"img\" aria-label=\"sequence diagram\" viewBox=\"0 0 " +
                    F(width, 0) + " " + F(height, 0) + "\" width=\"" + F(width, 0) +
                    "\" height=\"" + F(height, 0) + "\">\n<title>sequence diagram</title>\n";
  svg += "<defs><marker id=\"" + marker +
         "\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
         "orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#1f2328\"/></marker>"
         "<marker id=\"" + marker_hl +
         "\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
         "orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#cf222e\"/></marker>"
         "</defs>\n";
  auto column_x = [&](std::string_view name) {
    size_t i = 0;
    for (; i < d.lifelines.size(); ++i) {
      if (d.lifelines[i] == name) break;
    }
    return kGutter + kColumn * (static_cast<double>(i) + 0.5);
  };
  const double life_bottom = kHeader + kRow * static_cast<double>(d.arrows.size() + 1) - 8;
  svg += "<text x=\"8\" y=\"" + F(kHeader - 18) + "\" class=\"muted\">" +
         std::string(ToString(clock)) + " time</text>\n";
  for (const std::string& name : d.lifelines) {
    const double x = column_x(name);
    svg += "<rect class=\"lifeline-box\" x=\"" + F(x - 80) + "\" y=\"8\" width=\"160\" height=\"26\" rx=\"4\"/>"
           "<text x=\"" + F(x) + "\" y=\"25\" text-anchor=\"middle\">" +
           Text(Truncate(name, 24)) + "</text>\n";
    svg += "<line class=\"lifeline\" x1=\"" + F(x) + "\" y1=\"34\" x2=\"" + F(x) + "\" y2=\"" +
           F(life_bottom) + "\"/>\n";
  }
  if (d.arrows_omitted) {
    svg += "<text x=\"8\" y=\"" + F(kHeader) + "\" class=\"muted\">… " +
           std::to_string(d.arrows_omitted) + " earlier messages omitted</text>\n";
  }
  for (size_t i = 0; i < d.arrows.size(); ++i) {
    const Arrow& a = d.arrows[i];
    const double y = kHeader + kRow * static_cast<double>(i + 1);
    const std::string cls = a.highlighted ? "arrow highlighted" : "arrow";
    const std::string text_cls = a.highlighted ? " class=\"highlighted\"" : "";
    const std::string& m = a.highlighted ? marker_hl : marker;
    svg += "<g class=\"message" + std::string(a.highlighted ? " highlighted" : "") + "\"><title>" +
           Text(Ns(static_cast<double>(a.time_ns))) + ": " + Text(a.from) + " → " + Text(a.to) +
           ": " + Text(a.label) + "</title>";
    svg += "<text x=\"8\" y=\"" + F(y + 4) + "\"" + text_cls + ">" +
           Text(Ns(static_cast<double>(a.time_ns))) + "</text>";
    const double xa = column_x(a.from), xb = column_x(a.to);
    if (a.from == a.to) {
      svg += "<path class=\"" + cls + "\" d=\"M" + F(xa) + "," + F(y - 6) + " h30 v12 h-30\" marker-end=\"url(#" +
             m + ")\"/>";
      svg += "<text x=\"" + F(xa + 36) + "\" y=\"" + F(y + 4) + "\"" + text_cls + ">" +
             Text(Truncate(a.label, 40)) + "</text>";
    } else {
      svg += "<line class=\"" + cls + "\" x1=\"" + F(xa) + "\" y1=\"" + F(y) + "\" x2=\"" + F(xb) +
             "\" y2=\"" + F(y) + "\" marker-end=\"url(#" + m + ")\"/>";
      const size_t max_chars = static_cast<size_t>(std::abs(xb - xa) / 6.2);
      svg += "<text x=\"" + F((xa + xb) / 2) + "\" y=\"" + F(y - 5) + "\" text-anchor=\"middle\"" +
             text_cls + ">" + Text(Truncate(a.label, std::max<size_t>(8, max_chars))) + "</text>";
    }
    svg += "</g>\n";
  }
  if (has_violation) {
    const double y = height - footer + 8;
    svg += "<g class=\"violated-expectation\"><rect class=\"violation\" x=\"8\" y=\"" + F(y) +
           "\" width=\"" + F(width - 16) + "\" height=\"46\" rx=\"4\"/>";
    svg += "<text x=\"18\" y=\"" + F(y + 18) + "\" class=\"highlighted\">violated expectation</text>";
    svg += "<text x=\"18\" y=\"" + F(y + 36) + "\">" +
           Text(Truncate(d.violated_expectation, static_cast<size_t>((width - 40) / 6.2))) +
           "</text></g>\n";
  }
  svg += "</svg>\n";
  return svg;
}

// --- HTML sections ----------------------------------------------------------------------

std::string StatusSpan(Outcome o) {
  const std::string name(ToString(o));
  return "<span class=\"status " + name + "\">" + name + "</span>";
}

std::string PercentileCells(const Histogram& h) {
  std::string out = "<td class=\"num\">" + std::to_string(h.count()) + "</td>";
  for (int64_t v : h.ValuesAtPercentiles(kReportPercentiles)) {
    out += "<td class=\"num\">" + Text(Ns(static_cast<double>(v))) + "</td>";
  }
  out += "<td class=\"num\">" + Text(Ns(static_cast<double>(h.max()))) + "</td>";
  return out;
}

std::string PercentileHeader() {
  std::string out = "<th class=\"num\">samples</th>";
  for (double p : kReportPercentiles) {
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof buf, p);
    out += "<th class=\"num\">p" + std::string(buf, res.ptr) + "</th>";
  }
  return out + "<th class=\"num\">max</th>";
}

std::string ThresholdTable(const std::vector<ThresholdResult>& thresholds) {
  std::string out = "<table class=\"thresholds\"><tr><th>result</th><th>threshold</th>"
                    "<th>observed</th><th>note</th></tr>\n";
  for (const ThresholdResult& t : thresholds) {
    out += "<tr><td>" + StatusSpan(t.passed ? Outcome::kPass : Outcome::kFail) + "</td><td><code>" +
           Text(t.expression) + "</code></td><td class=\"num\">" + Text(t.observed) +
           "</td><td>" + Text(t.message) + "</td></tr>\n";
  }
  return out + "</table>\n";
}

// `wpsim explore --census`: every distinct outcome with its count, share, first seed and replay.
std::string CensusSection(const RunReport& r) {
  std::string out = "<section id=\"census\">\n<h2>Outcome census</h2>\n<p>" + std::to_string(r.census.size()) +
                    " distinct outcome(s) of <code>" + Text(r.census_scenario) + "</code> in " +
                    std::to_string(r.census_seeds) +
                    " seeds, most frequent first (per member, in order, what it observed).</p>\n"
                    "<table class=\"census\"><tr><th class=\"num\">seeds</th><th class=\"num\">share</th>"
                    "<th class=\"num\">first seed</th><th>outcome</th><th>replay</th></tr>\n";
  for (const CensusRow& c : r.census) {
    char share[32];
    snprintf(share, sizeof share, "%.1f%%",
             r.census_seeds ? 100.0 * static_cast<double>(c.count) / static_cast<double>(r.census_seeds) : 0.0);
    out += "<tr><td class=\"num\">" + std::to_string(c.count) + "</td><td class=\"num\">" + share +
           "</td><td class=\"num\">" + std::to_string(c.first_seed) + "</td><td>" +
           (c.failed ? StatusSpan(Outcome::kFail) + " " : "") + "<code>" + Text(c.outcome) + "</code></td><td><code>" +
           Text(c.replay) + "</code></td></tr>\n";
  }
  return out + "</table>\n</section>\n";
}

std::string Summary(const RunReport& r) {
  const Totals t = r.ComputeTotals();
  const Verdict v = r.ComputeVerdict();
  std::string out = "<section id=\"summary\">\n<h2>Summary</h2>\n";
  static constexpr const char* kVerdictText[] = {"PASS", "CONFORMANCE FAILURE",
                                                 "THRESHOLD FAILURE"};
  out += "<div class=\"verdict " + std::string(ToString(v)) + "\" id=\"verdict\">" +
         kVerdictText[static_cast<int>(v)] + "</div>\n";
  out += "<div class=\"counts\">";
  const std::pair<const char*, uint64_t> counts[] = {
      {"passed", t.passed}, {"failed", t.failed}, {"skipped", t.skipped}, {"errors", t.errors}};
  for (const auto& [name, n] : counts) {
    out += "<div class=\"count " + std::string(name) + "\" id=\"count-" + name + "\"><b>" +
           std::to_string(n) + "</b>" + name + "</div>";
  }
  out += "</div>\n";
  const std::vector<std::string> bugs = r.InjectedBugs();
  if (!bugs.empty()) {
    std::string names;
    for (const std::string& b : bugs) names += (names.empty() ? "" : ", ") + ("<code>" + Text(b) + "</code>");
    out += "<p class=\"injected\" id=\"injected-bugs\">Injected service bug" +
           std::string(bugs.size() > 1 ? "s" : "") + ": " + names +
           " — the reference service was broken on purpose, so failures are expected.</p>\n";
  }
  out += "<table class=\"facts\">\n";
  auto fact = [&out](std::string_view name, std::string_view value, bool code = false) {
    out += "<tr><th>" + Text(name) + "</th><td>" + (code ? "<code>" : "") + Text(value) +
           (code ? "</code>" : "") + "</td></tr>\n";
  };
  fact("target", ToString(r.target));
  fact("clock", std::string(ToString(r.clock)) +
                    (r.clock == ClockKind::kVirtual ? " (simulated time: identical on every rerun)"
                                                    : " (wall-clock time)"));
  fact("seed", std::to_string(r.seed), true);
  fact("trace hash", FormatTraceHash(r.trace_hash), true);
  fact("wpsim version", r.run.version);
  fact("duration", Ns(static_cast<double>(r.TotalScenarioDurationNs())) + " (" +
                       std::string(ToString(r.clock)) + " time, sum over scenarios)");
  fact("wall time", Ns(static_cast<double>(r.run.duration_ns)));
  fact("started", r.run.start_time);
  fact("host", r.run.host);
  fact("command line", r.run.command_line, true);
  fact("scenarios", std::to_string(t.total()));
  out += "</table>\n</section>\n";
  return out;
}

std::string ScenarioTable(const RunReport& r) {
  std::string out = "<section id=\"scenarios\">\n<h2>Scenarios</h2>\n";
  out += "<div class=\"toolbar\"><label><input type=\"checkbox\" id=\"only-failing\" disabled> "
         "show failing scenarios only</label></div>\n";
  out += "<table id=\"scenario-table\"><tr><th>status</th><th>scenario</th><th class=\"num\">"
         "duration</th><th>latency</th>" + PercentileHeader() + "</tr>\n";
  for (const ScenarioResult& s : r.scenarios) {
    out += "<tr class=\"scenario-row " + std::string(ToString(s.status)) + "\"><td>" +
           StatusSpan(s.status) + "</td><td><a href=\"#scenario-" + std::to_string(s.ordinal) +
           "\">" + Text(s.name) + "</a><br><span class=\"muted\">" + Text(s.file) +
           "</span></td><td class=\"num\">" +
           (s.status == Outcome::kSkip ? "" : Text(Ns(static_cast<double>(s.duration_ns)))) +
           "</td>";
    std::optional<Metric> metric = s.PrimaryMetric();
    if (!metric) {
      out += "<td colspan=\"8\" class=\"muted\">" +
             Text(s.status == Outcome::kSkip ? "skipped: " + s.skip_reason
                                             : std::string("no latency recorded")) +
             "</td></tr>\n";
      continue;
    }
    out += "<td>" + Text(ToString(*metric)) +
           (s.coordinated_omission_corrected() ? " <span class=\"muted\">(CO-corrected)</span>"
                                               : "") +
           "</td>" + PercentileCells(s.MergedLatency(*metric)) + "</tr>\n";
  }
  return out + "</table>\n</section>\n";
}

// Run-wide view per metric: all scenarios merged into one histogram, and one percentile line
// per scenario (the first kHtmlSeriesPerPlotMax that recorded the metric).
std::string Overview(const RunReport& r) {
  std::string out;
  for (Metric m : {Metric::kPublishToReceive, Metric::kAckRtt, Metric::kConnect,
                   Metric::kRestCall}) {
    Histogram all(r.histogram_significant_digits);
    std::vector<Histogram> per_scenario;
    std::vector<std::string> labels;
    for (const ScenarioResult& s : r.scenarios) {
      if (!s.HasLatency(m) || s.histogram_significant_digits != r.histogram_significant_digits) {
        continue;
      }
      Histogram h = s.MergedLatency(m);
      Status st = all.Merge(h);
      WPSIM_ASSERT(st.ok());
      if (per_scenario.size() < kHtmlSeriesPerPlotMax) {
        per_scenario.push_back(std::move(h));
        labels.push_back(s.name);
      }
    }
    if (all.empty()) continue;
    std::vector<std::pair<std::string, const Histogram*>> lines;
    for (size_t i = 0; i < per_scenario.size(); ++i) lines.emplace_back(labels[i], &per_scenario[i]);
    const std::string metric(ToString(m));
    out += "<h3>" + Text(metric) + "</h3>\n<table class=\"latency\"><tr><th>scope</th>" +
           PercentileHeader() + "</tr>\n<tr><td>all scenarios</td>" + PercentileCells(all) +
           "</tr></table>\n<div class=\"plots\">\n";
    out += HistogramSvg(all, metric + " histogram, all scenarios, " +
                                 std::to_string(all.count()) + " samples");
    out += PercentileSvg(lines, metric + " by percentile, per scenario");
    out += "</div>\n";
  }
  if (out.empty()) return out;
  return "<section id=\"overview\">\n<h2>Latency overview (" + std::string(ToString(r.clock)) +
         " time)</h2>\n" + out + "</section>\n";
}

std::string ScenarioDetails(const RunReport& r, const ScenarioResult& s) {
  const bool failing = s.status == Outcome::kFail || s.status == Outcome::kError;
  const std::string id = "scenario-" + std::to_string(s.ordinal);
  std::string out = "<details class=\"scenario " + std::string(ToString(s.status)) + "\" id=\"" +
                    id + "\"" + (failing ? " open" : "") + ">\n<summary>" +
                    StatusSpan(s.status) + " " + Text(s.name) + " <span class=\"muted\">" +
                    Text(s.file) + "</span></summary>\n";
  out += "<table class=\"facts\">\n";
  auto fact = [&out](std::string_view name, const std::string& html) {
    out += "<tr><th>" + Text(name) + "</th><td>" + html + "</td></tr>\n";
  };
  fact("file", Text(s.file));
  if (!s.source.document.empty() || !s.source.section.empty()) {
    fact("source", Text(s.source.document) + (s.source.section.empty() ? "" : " — ") +
                       Text(s.source.section));
  }
  if (!s.tags.empty()) {
    std::string tags;
    for (const std::string& t : s.tags) tags += (tags.empty() ? "" : " ") + ("<code>" + Text(t) + "</code>");
    fact("tags", tags);
  }
  if (s.status == Outcome::kSkip) fact("skipped because", Text(s.skip_reason));
  fact("duration", Text(Ns(static_cast<double>(s.duration_ns))) + " " +
                       Text(ToString(r.clock)) + " · " +
                       Text(Ns(static_cast<double>(s.wall_duration_ns))) + " wall");
  fact("seed", "<code>" + std::to_string(s.seed) + "</code>");
  fact("trace hash", "<code>" + FormatTraceHash(s.trace_hash) + "</code>");
  out += "</table>\n";
  if (!s.reproduce.empty()) {
    out += "<p>Reproduce:</p><pre class=\"reproduce\"><code>" + Text(s.reproduce) +
           "</code></pre>\n";
  }
  if (!s.failures.empty()) {
    out += "<h3>Failures</h3>\n";
    for (const Failure& f : s.failures) {
      out += "<div class=\"failure\"><p>" + Text(f.message) + "</p>";
      if (!f.case_id.empty()) out += "<p class=\"muted\">case <code>" + Text(f.case_id) + "</code></p>";
      if (f.time_ns) {
        out += "<p class=\"muted\">at " + Text(Ns(static_cast<double>(*f.time_ns))) + " (" +
               Text(ToString(r.clock)) + " time)</p>";
      }
      if (!f.expected.empty()) out += "<p>expected</p><pre>" + Text(f.expected) + "</pre>";
      if (!f.actual.empty()) out += "<p>actual</p><pre>" + Text(f.actual) + "</pre>";
      out += "</div>\n";
    }
  }
  if (!s.cases.empty()) {
    out += "<h3>Cases</h3>\n<table class=\"cases\"><tr><th>status</th><th>case</th><th>message"
           "</th><th>expected</th><th>actual</th></tr>\n";
    for (const CaseResult& c : s.cases) {
      out += "<tr><td>" + StatusSpan(c.status) + "</td><td><code>" + Text(c.case_id) +
             "</code></td><td>" + Text(c.message) + "</td><td><code>" + Text(c.expected) +
             "</code></td><td><code>" + Text(c.actual) + "</code></td></tr>\n";
    }
    out += "</table>\n";
  }
  // What happened, right under what went wrong: the diagram comes before the numbers.
  if (failing && !s.sequence.empty()) {
    out += "<h3>Sequence diagram</h3>\n";
    if (!s.sequence.violated_expectation.empty()) {
      out += "<p class=\"failure highlighted\">Violated: " + Text(s.sequence.violated_expectation) +
             "</p>\n";
    }
    out += SequenceSvg(s.sequence, s.ordinal, r.clock);
  }
  if (!s.thresholds.empty()) out += "<h3>Thresholds</h3>\n" + ThresholdTable(s.thresholds);
  if (!s.counters.empty()) {
    out += "<h3>Counters</h3>\n<table class=\"counters\">";
    for (const auto& [name, value] : s.counters) {
      out += "<tr><th>" + Text(name) + "</th><td class=\"num\">" + std::to_string(value) +
             "</td></tr>";
    }
    out += "</table>\n";
  }
  if (!s.latency.empty()) {
    out += "<h3>Latency (" + Text(ToString(r.clock)) + " time)</h3>\n";
    out += "<table class=\"latency\"><tr><th>series</th><th>CO-corrected</th>" +
           PercentileHeader() + "<th class=\"num\">mean</th><th class=\"num\">stddev</th></tr>\n";
    for (const auto& [key, series] : s.latency) {
      out += "<tr><td>" + Text(key.Label()) + "</td><td>" +
             (series.coordinated_omission_corrected ? "yes" : "no") + "</td>" +
             PercentileCells(series.histogram) + "<td class=\"num\">" +
             Text(Ns(series.histogram.mean())) + "</td><td class=\"num\">" +
             Text(Ns(series.histogram.stddev())) + "</td></tr>\n";
    }
    out += "</table>\n";
    for (Metric m : {Metric::kPublishToReceive, Metric::kAckRtt, Metric::kConnect,
                     Metric::kRestCall}) {
      if (!s.HasLatency(m)) continue;
      const Histogram merged = s.MergedLatency(m);
      std::vector<std::pair<std::string, const Histogram*>> lines;
      size_t omitted = 0;
      for (const auto& [key, series] : s.latency) {
        if (key.metric != m || series.histogram.empty()) continue;
        if (lines.size() == kHtmlSeriesPerPlotMax) {
          ++omitted;
          continue;
        }
        lines.emplace_back(key.Label(), &series.histogram);
      }
      const std::string metric(ToString(m));
      out += "<div class=\"plots\">\n";
      out += HistogramSvg(merged, metric + " histogram, " + std::to_string(merged.count()) +
                                      " samples");
      out += PercentileSvg(lines, metric + " by percentile" +
                                      (omitted ? " (first " +
                                                     std::to_string(kHtmlSeriesPerPlotMax) +
                                                     " series)"
                                               : std::string()));
      out += "</div>\n";
    }
  }
  for (const auto& [name, series] : s.throughput) {
    out += "<h3>Throughput: " + Text(name) + "</h3>\n<p class=\"muted\">peak " +
           F(series.PeakPerSecond(), 0) + "/s, mean " + F(series.MeanPerSecond(), 0) + "/s over " +
           std::to_string(series.counts.size()) + " intervals of " +
           Text(Ns(static_cast<double>(series.interval_ns))) +
           (series.dropped ? ", " + std::to_string(series.dropped) + " events outside the window"
                           : std::string()) +
           "</p>\n";
    out += ThroughputSvg(series, name + " per second", r.clock);
  }
  out += "</details>\n";
  return out;
}

}  // namespace

std::string WriteHtml(const RunReport& r) {
  const Totals t = r.ComputeTotals();
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  // Nothing may be fetched: styles and the one script are inline, images are inline SVG.
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"wpsim " + E(r.run.version) + "\">\n";
  out += "<title>wpsim report: " + std::to_string(t.passed) + " passed, " +
         std::to_string(t.failed) + " failed</title>\n";
  out += "<style>" + std::string(kCss) + "</style>\n</head>\n<body>\n";
  out += "<h1>wpsim report</h1>\n";
  out += Summary(r);
  if (!r.thresholds.empty()) {
    out += "<section id=\"run-thresholds\">\n<h2>Thresholds</h2>\n" + ThresholdTable(r.thresholds) +
           "</section>\n";
  }
  if (!r.census.empty()) out += CensusSection(r);
  out += ScenarioTable(r);
  out += Overview(r);
  out += "<section id=\"details\">\n<h2>Details</h2>\n";
  size_t shown = 0;
  for (const ScenarioResult& s : r.scenarios) {
    // Failing scenarios always get their details; passing ones up to the bound.
    const bool failing = s.status == Outcome::kFail || s.status == Outcome::kError;
    if (!failing && shown >= kHtmlScenarioDetailsMax) continue;
    ++shown;
    out += ScenarioDetails(r, s);
  }
  if (shown < r.scenarios.size()) {
    out += "<p class=\"muted\">Details of " + std::to_string(r.scenarios.size() - shown) +
           " passing scenarios omitted; the JSON report has them.</p>\n";
  }
  out += "</section>\n<footer class=\"muted\"><p>Generated by wpsim " + Text(r.run.version) +
         ". Latencies are " + std::string(ToString(r.clock)) +
         "-clock figures; series marked CO-corrected are measured from the intended send time "
         "(coordinated omission corrected).</p></footer>\n";
  out += "<script>" + std::string(kScript) + "</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace wpsim::reports
