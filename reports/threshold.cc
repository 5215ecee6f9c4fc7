#include "reports/threshold.h"

#include <charconv>
#include <cmath>

namespace wpsim::reports {
namespace {

// A hand-written scanner over the expression; every error records the position it refers to.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<Threshold> Parse(ThresholdSyntaxError* detail) {
    Threshold t;
    size_t begin = 0, end = text_.size();
    while (begin < end && IsSpace(text_[begin])) ++begin;
    while (end > begin && IsSpace(text_[end - 1])) --end;
    t.text = std::string(text_.substr(begin, end - begin));
    if (!ParseInto(t)) {
      if (detail) *detail = {Column(error_pos_), error_};
      return MakeError("threshold_syntax", "column " + std::to_string(Column(error_pos_)) + ": " +
                                               error_ + " in threshold \"" + t.text + "\"");
    }
    return t;
  }

 private:
  static bool IsSpace(char c) { return c == ' ' || c == '\t'; }
  static bool IsWordChar(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  // Column in characters: count UTF-8 lead bytes before pos.
  size_t Column(size_t pos) const {
    size_t col = 1;
    for (size_t i = 0; i < pos && i < text_.size(); ++i) {
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++col;
    }
    return col;
  }

  bool Fail(size_t pos, std::string message) {
    error_pos_ = pos;
    error_ = std::move(message);
    return false;
  }
  void SkipSpace() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
  }
  bool AtEnd() const { return pos_ >= text_.size(); }
  std::string_view Word() {
    const size_t start = pos_;
    while (pos_ < text_.size() && IsWordChar(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  // The token at pos (up to whitespace), for messages.
  std::string Token(size_t pos) const {
    size_t end = pos;
    while (end < text_.size() && !IsSpace(text_[end])) ++end;
    return std::string(text_.substr(pos, end - pos));
  }
  bool Number(double* out, const char* what) {
    const size_t start = pos_;
    while (pos_ < text_.size() && (IsDigit(text_[pos_]) || text_[pos_] == '.')) ++pos_;
    const std::string_view digits = text_.substr(start, pos_ - start);
    if (digits.empty()) {
      return Fail(start, AtEnd() ? std::string("expected ") + what + " at the end"
                                 : std::string("expected ") + what + ", got '" + Token(start) +
                                       "'");
    }
    double v = 0;
    auto res = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (res.ec != std::errc() || res.ptr != digits.data() + digits.size() ||
        digits.front() == '.' || digits.back() == '.') {
      return Fail(start, "malformed number '" + std::string(digits) + "'");
    }
    *out = v;
    return true;
  }

  bool ParseStatistic(Threshold& t) {
    SkipSpace();
    size_t start = pos_;
    if (AtEnd()) return Fail(pos_, "empty threshold; expected e.g. 'p99 < 50ms'");
    std::string_view word = Word();
    if (!AtEnd() && text_[pos_] == '.' && word != "p") {
      std::optional<Metric> metric = ParseMetric(word);
      if (!metric) {
        return Fail(start, "unknown metric '" + std::string(word) +
                               "' (expected publish_to_receive, ack_rtt, connect or rest_call)");
      }
      t.metric = metric;
      ++pos_;  // '.'
      start = pos_;
      word = Word();
    }
    if (word == "p") {
      const bool parenthesised = !AtEnd() && text_[pos_] == '(';
      if (parenthesised) ++pos_;
      const size_t number_pos = pos_;
      if (!Number(&t.percentile, "a percentile after 'p' (as in p99 or p99.9)")) return false;
      if (t.percentile > 100) {
        return Fail(number_pos, "percentile " +
                                    std::string(text_.substr(number_pos, pos_ - number_pos)) +
                                    " is above 100");
      }
      if (parenthesised) {
        if (AtEnd() || text_[pos_] != ')') return Fail(pos_, "expected ')' after the percentile");
        ++pos_;
      }
      t.stat = ThresholdStat::kPercentile;
    } else if (word == "max") {
      t.stat = ThresholdStat::kMax;
    } else if (word == "min") {
      t.stat = ThresholdStat::kMin;
    } else if (word == "mean" || word == "avg") {
      t.stat = ThresholdStat::kMean;
    } else if (word == "med") {
      t.stat = ThresholdStat::kPercentile;
      t.percentile = 50;
    } else if (word == "stddev") {
      t.stat = ThresholdStat::kStddev;
    } else if (word == "count") {
      t.stat = ThresholdStat::kCount;
    } else if (word == "error_rate") {
      t.stat = ThresholdStat::kErrorRate;
    } else if (word == "throughput") {
      t.stat = ThresholdStat::kThroughput;
    } else {
      return Fail(start, "unknown statistic '" + Token(start) +
                             "' (expected pNN, max, min, mean, stddev, count, error_rate or "
                             "throughput)");
    }
    if ((t.stat == ThresholdStat::kErrorRate || t.stat == ThresholdStat::kThroughput) &&
        t.metric) {
      return Fail(start, std::string(word) + " does not take a metric prefix");
    }
    if (!AtEnd() && !IsSpace(text_[pos_]) && text_[pos_] != '<' && text_[pos_] != '>' &&
        text_[pos_] != '=' && text_[pos_] != '!') {
      return Fail(start, "unknown statistic '" + Token(start) +
                             "' (expected pNN, max, min, mean, stddev, count, error_rate or "
                             "throughput)");
    }
    return true;
  }

  bool ParseComparison(Threshold& t) {
    SkipSpace();
    const size_t start = pos_;
    auto next = [&](size_t k) { return pos_ + k < text_.size() ? text_[pos_ + k] : '\0'; };
    const char c0 = next(0), c1 = next(1);
    if (c0 == '<' && c1 == '=') {
      t.op = ThresholdOp::kLessEqual;
      pos_ += 2;
    } else if (c0 == '>' && c1 == '=') {
      t.op = ThresholdOp::kGreaterEqual;
      pos_ += 2;
    } else if (c0 == '=' && c1 == '=') {
      t.op = ThresholdOp::kEqual;
      pos_ += 2;
    } else if (c0 == '!' && c1 == '=') {
      t.op = ThresholdOp::kNotEqual;
      pos_ += 2;
    } else if (c0 == '<') {
      t.op = ThresholdOp::kLess;
      pos_ += 1;
    } else if (c0 == '>') {
      t.op = ThresholdOp::kGreater;
      pos_ += 1;
    } else if (c0 == '=') {
      return Fail(start, "use '==' for equality (or <, <=, >, >=)");
    } else {
      return Fail(start, AtEnd() ? std::string("expected a comparison (<, <=, >, >=, ==, !=) "
                                               "at the end")
                                 : "expected a comparison (<, <=, >, >=, ==, !=), got '" +
                                       Token(start) + "'");
    }
    return true;
  }

  bool ParseValue(Threshold& t) {
    SkipSpace();
    const size_t number_pos = pos_;
    if (!AtEnd() && text_[pos_] == '-') return Fail(pos_, "negative limits are not allowed");
    double v = 0;
    if (!Number(&v, "a number")) return false;
    const std::string number(text_.substr(number_pos, pos_ - number_pos));
    const size_t unit_pos = pos_;
    // Units are glued to the number ("50ms") or separated by spaces ("50 ms").
    SkipSpace();
    const size_t unit_start = pos_;
    std::string_view rest = text_.substr(pos_);
    size_t unit_len = 0;
    while (unit_len < rest.size() && !IsSpace(rest[unit_len])) ++unit_len;
    const std::string_view unit = rest.substr(0, unit_len);
    const size_t unit_error_pos = unit.empty() ? unit_pos : unit_start;
    switch (t.stat) {
      case ThresholdStat::kPercentile:
      case ThresholdStat::kMax:
      case ThresholdStat::kMin:
      case ThresholdStat::kMean:
      case ThresholdStat::kStddev: {
        static constexpr struct {
          std::string_view name;
          double ns;
        } kUnits[] = {{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9},
                      {"m", 60e9}, {"min", 60e9}, {"h", 3600e9}};
        double scale = 0;
        for (const auto& u : kUnits) {
          if (u.name == unit) scale = u.ns;
        }
        if (scale == 0) {
          return Fail(unit_error_pos,
                      unit.empty()
                          ? "expected a time unit (ns, us, ms, s, m, h) after " + number
                          : "unknown time unit '" + std::string(unit) +
                                "' (expected ns, us, ms, s, m or h)");
        }
        t.limit = v * scale;
        break;
      }
      case ThresholdStat::kCount:
        if (!unit.empty()) {
          return Fail(unit_start, "count takes a plain number, not '" + std::string(unit) + "'");
        }
        t.limit = v;
        break;
      case ThresholdStat::kErrorRate:
        if (unit == "%") {
          if (v > 100) return Fail(number_pos, "error_rate " + number + "% is above 100%");
          t.limit = v / 100;
        } else if (unit.empty()) {
          if (v > 1) {
            return Fail(number_pos, "error_rate " + number +
                                        " is above 1 (a ratio); did you mean " + number + "%?");
          }
          t.limit = v;
        } else {
          return Fail(unit_start, "expected '%' or nothing after the error rate, got '" +
                                      std::string(unit) + "'");
        }
        break;
      case ThresholdStat::kThroughput: {
        static constexpr struct {
          std::string_view name;
          double per_second;
        } kRates[] = {{"/s", 1}, {"/ms", 1e3}, {"/m", 1.0 / 60}, {"/min", 1.0 / 60},
                      {"/h", 1.0 / 3600}};
        double scale = 0;
        for (const auto& r : kRates) {
          if (r.name == unit) scale = r.per_second;
        }
        if (scale == 0) {
          return Fail(unit_error_pos,
                      unit.empty() ? "expected a rate unit (/s, /ms, /m, /h) after " + number
                                   : "unknown rate unit '" + std::string(unit) +
                                         "' (expected /s, /ms, /m or /h)");
        }
        t.limit = v * scale;
        break;
      }
    }
    pos_ = unit_start + unit_len;
    SkipSpace();
    if (!AtEnd()) {
      return Fail(pos_, "unexpected '" + Token(pos_) + "' after the value");
    }
    return true;
  }

  bool ParseInto(Threshold& t) {
    return ParseStatistic(t) && ParseComparison(t) && ParseValue(t);
  }

  std::string_view text_;
  size_t pos_ = 0;
  size_t error_pos_ = 0;
  std::string error_;
};

bool Compare(double observed, ThresholdOp op, double limit) {
  switch (op) {
    case ThresholdOp::kLess: return observed < limit;
    case ThresholdOp::kLessEqual: return observed <= limit;
    case ThresholdOp::kGreater: return observed > limit;
    case ThresholdOp::kGreaterEqual: return observed >= limit;
    case ThresholdOp::kEqual: return observed == limit;
    case ThresholdOp::kNotEqual: return observed != limit;
  }
  return false;
}

std::string FormatNumber(double v, int max_decimals) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, max_decimals);
  std::string s(buf, res.ptr);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

ThresholdResult NotEvaluated(const Threshold& t, std::string message) {
  ThresholdResult r;
  r.expression = t.text;
  r.observed = "n/a";
  r.passed = false;
  r.message = std::move(message);
  return r;
}

}  // namespace

Result<Threshold> ParseThreshold(std::string_view text, ThresholdSyntaxError* detail) {
  return Parser(text).Parse(detail);
}

ThresholdResult EvaluateThreshold(const Threshold& t, const ThresholdInput& in) {
  ThresholdResult r;
  r.expression = t.text;
  const std::string metric_name(ToString(t.metric_or_default()));
  switch (t.stat) {
    case ThresholdStat::kPercentile:
    case ThresholdStat::kMax:
    case ThresholdStat::kMin:
    case ThresholdStat::kMean:
    case ThresholdStat::kStddev: {
      if (in.latency == nullptr || in.latency->empty()) {
        return NotEvaluated(t, "no " + metric_name + " latency samples were recorded");
      }
      const Histogram& h = *in.latency;
      double v = 0;
      switch (t.stat) {
        case ThresholdStat::kPercentile:
          v = static_cast<double>(h.ValueAtPercentile(t.percentile));
          break;
        case ThresholdStat::kMax: v = static_cast<double>(h.max()); break;
        case ThresholdStat::kMin: v = static_cast<double>(h.min()); break;
        case ThresholdStat::kMean: v = std::round(h.mean()); break;
        default: v = std::round(h.stddev()); break;
      }
      r.observed_value = v;
      r.observed = FormatDurationNs(v);
      break;
    }
    case ThresholdStat::kCount: {
      const uint64_t count = in.latency ? in.latency->count() : 0;
      r.observed_value = static_cast<double>(count);
      r.observed = std::to_string(count);
      break;
    }
    case ThresholdStat::kErrorRate: {
      if (!in.operations || *in.operations == 0) {
        return NotEvaluated(t, "no " + in.operations_name + " were counted, so there is no error rate");
      }
      const uint64_t errors = in.errors.value_or(0);
      r.observed_value = static_cast<double>(errors) / static_cast<double>(*in.operations);
      r.observed = FormatNumber(r.observed_value * 100, 4) + "% (" + std::to_string(errors) +
                   " of " + std::to_string(*in.operations) + " " + in.operations_name + " failed" +
                   (in.operations_detail.empty() ? "" : ": " + in.operations_detail) + ")";
      break;
    }
    case ThresholdStat::kThroughput: {
      if (in.duration_ns <= 0) return NotEvaluated(t, "the measurement window is empty");
      uint64_t events = 0;
      if (in.events) {
        events = *in.events;
      } else if (in.latency) {
        events = in.latency->count();
      } else {
        return NotEvaluated(t, "no events were counted");
      }
      r.observed_value = static_cast<double>(events) * 1e9 / static_cast<double>(in.duration_ns);
      r.observed = FormatNumber(r.observed_value, 1) + "/s";
      break;
    }
  }
  r.passed = Compare(r.observed_value, t.op, t.limit);
  return r;
}

void SetErrorRateInput(const std::map<std::string, uint64_t>& counters, ThresholdInput& in) {
  auto get = [&counters](std::string_view name) -> std::optional<uint64_t> {
    auto it = counters.find(std::string(name));
    if (it == counters.end()) return std::nullopt;
    return it->second;
  };
  if (std::optional<uint64_t> errors = get(kCounterErrors)) in.errors = errors;
  // The kinds of request present, each with its count and its name (singular, plural).
  struct Kind {
    std::string_view counter;
    const char* one;
    const char* many;
  };
  static constexpr Kind kKinds[] = {{kCounterRestCalls, "REST call", "REST calls"},
                                    {kCounterAcks, "ack", "acks"},
                                    {kCounterMqttAcks, "PUBACK/PUBREC", "PUBACKs/PUBRECs"}};
  uint64_t total = 0;
  int present = 0;
  std::string name;
  std::string detail;
  for (const Kind& k : kKinds) {
    const std::optional<uint64_t> n = get(k.counter);
    if (!n || *n == 0) continue;
    total += *n;
    ++present;
    name = k.many;
    if (!detail.empty()) detail += ", ";
    detail += std::to_string(*n) + " " + (*n == 1 ? k.one : k.many);
  }
  if (present == 1) {
    in.operations = total;
    in.operations_name = name;
  } else if (present > 1) {
    in.operations = total;
    in.operations_name = "requests";
    in.operations_detail = detail;
  } else if (std::optional<uint64_t> rest = get(kCounterRestCalls)) {
    in.operations = rest;  // REST calls were counted but none was made
    in.operations_name = "REST calls";
  } else if (std::optional<uint64_t> operations = get(kCounterOperations)) {
    in.operations = operations;
  }
}

ThresholdResult EvaluateThreshold(const Threshold& t, const ScenarioResult& s) {
  const Histogram merged = s.MergedLatency(t.metric_or_default());
  ThresholdInput in;
  in.latency = &merged;
  SetErrorRateInput(s.counters, in);
  if (s.counters.count(std::string(kCounterDelivered))) in.events = s.Counter(kCounterDelivered);
  in.duration_ns = s.duration_ns;
  return EvaluateThreshold(t, in);
}

ThresholdResult EvaluateThreshold(const Threshold& t, const RunReport& report) {
  Histogram merged(report.histogram_significant_digits);
  ThresholdInput in;
  std::map<std::string, uint64_t> counters;  // error_rate's, summed over the scenarios
  for (const ScenarioResult& s : report.scenarios) {
    if (s.histogram_significant_digits == report.histogram_significant_digits) {
      Status st = merged.Merge(s.MergedLatency(t.metric_or_default()));
      WPSIM_ASSERT(st.ok());
    }
    auto add = [&s](std::optional<uint64_t>& total, std::string_view name) {
      auto it = s.counters.find(std::string(name));
      if (it != s.counters.end()) total = total.value_or(0) + it->second;
    };
    add(in.events, kCounterDelivered);
    for (std::string_view name : {kCounterErrors, kCounterRestCalls, kCounterAcks,
                                  kCounterMqttAcks, kCounterOperations}) {
      auto it = s.counters.find(std::string(name));
      if (it != s.counters.end()) counters[it->first] += it->second;
    }
  }
  SetErrorRateInput(counters, in);
  in.latency = &merged;
  in.duration_ns = report.TotalScenarioDurationNs();
  return EvaluateThreshold(t, in);
}

Result<ThresholdResult> EvaluateThresholdText(std::string_view text,
                                              const ScenarioResult& scenario) {
  Result<Threshold> t = ParseThreshold(text);
  if (!t.ok()) return t.error();
  return EvaluateThreshold(*t, scenario);
}

}  // namespace wpsim::reports
