#include "reports/load_report.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <vector>

#include "reports/json_report.h"

namespace wpsim::reports {
namespace {

Error LoadError(const std::string& message) { return MakeError("load_report", message); }

}  // namespace

double LoadReport::load_seconds() const {
  return last_delivery_unix_ns > load_start_unix_ns ? static_cast<double>(last_delivery_unix_ns - load_start_unix_ns) * 1e-9
                                                    : 0;
}

double LoadReport::deliveries_per_s() const {
  const double s = load_seconds();
  return s > 0 ? static_cast<double>(delivered) / s : 0;
}

bool LoadReport::ok() const { return finished && delivered == expected && errors == 0 && unknown_payloads == 0; }

nlohmann::json LoadReportToJson(const LoadReport& r) {
  const double pcts[] = {50, 90, 99, 99.9};
  const std::vector<int64_t> q = r.latency.ValuesAtPercentiles(pcts);
  return nlohmann::json{
      {"kind", kLoadReportKind},
      {"label", r.label},
      {"target", r.target},
      {"sub", r.sub},
      {"pub", r.pub},
      {"mode", r.mode},
      {"subscribers", r.subscribers},
      {"publishers", r.publishers},
      {"messages", r.messages},
      {"size", r.size},
      {"rate_msgs_per_s", r.rate_msgs_per_s},
      {"inflight", r.inflight},
      {"shard", {{"index", r.shard_index}, {"count", r.shard_count}, {"merged", r.shards_merged}}},
      {"clock", r.clock},
      {"sent", r.sent},
      {"delivered", r.delivered},
      {"expected", r.expected},
      {"unknown_payloads", r.unknown_payloads},
      {"errors", r.errors},
      {"first_error", r.first_error},
      {"load_start_unix_ns", r.load_start_unix_ns},
      {"last_delivery_unix_ns", r.last_delivery_unix_ns},
      {"load_seconds", r.load_seconds()},
      {"deliveries_per_s", r.deliveries_per_s()},
      {"setup_seconds", r.setup_seconds},
      {"finished", r.finished},
      {"latency_ns", {{"p50", q[0]}, {"p90", q[1]}, {"p99", q[2]}, {"p99_9", q[3]}, {"max", r.latency.max()}}},
      {"latency_histogram", HistogramToJson(r.latency)},
      {"loadavg_1m", r.loadavg_1m},
      {"ok", r.ok()},
  };
}

bool IsLoadReportJson(const nlohmann::json& j) {
  return j.is_object() && j.contains("kind") && j["kind"].is_string() && j["kind"].get<std::string>() == kLoadReportKind;
}

Result<LoadReport> LoadReportFromJson(const nlohmann::json& j, const std::string& where) {
  if (!IsLoadReportJson(j)) return LoadError(where + ": not a wpsim-load report (no \"kind\": \"wpsim-load\")");
  LoadReport r;
  try {
    r.label = j.at("label").get<std::string>();
    r.target = j.at("target").get<std::string>();
    r.sub = j.at("sub").get<std::string>();
    r.pub = j.at("pub").get<std::string>();
    r.mode = j.at("mode").get<std::string>();
    r.subscribers = j.at("subscribers").get<uint32_t>();
    r.publishers = j.at("publishers").get<uint32_t>();
    r.messages = j.at("messages").get<uint64_t>();
    r.size = j.at("size").get<uint32_t>();
    r.rate_msgs_per_s = j.at("rate_msgs_per_s").get<double>();
    r.inflight = j.at("inflight").get<uint32_t>();
    r.shard_index = j.at("shard").at("index").get<uint32_t>();
    r.shard_count = j.at("shard").at("count").get<uint32_t>();
    r.shards_merged = j.at("shard").at("merged").get<uint32_t>();
    r.clock = j.at("clock").get<std::string>();
    r.sent = j.at("sent").get<uint64_t>();
    r.delivered = j.at("delivered").get<uint64_t>();
    r.expected = j.at("expected").get<uint64_t>();
    r.unknown_payloads = j.at("unknown_payloads").get<uint64_t>();
    r.errors = j.at("errors").get<uint64_t>();
    r.first_error = j.at("first_error").get<std::string>();
    r.load_start_unix_ns = j.at("load_start_unix_ns").get<int64_t>();
    r.last_delivery_unix_ns = j.at("last_delivery_unix_ns").get<int64_t>();
    r.setup_seconds = j.at("setup_seconds").get<double>();
    r.finished = j.at("finished").get<bool>();
    r.loadavg_1m = j.at("loadavg_1m").get<double>();
  } catch (const nlohmann::json::exception& e) {
    return LoadError(where + ": " + e.what());
  }
  if (!j.contains("latency_histogram")) return LoadError(where + ": latency_histogram is missing");
  Result<Histogram> h = HistogramFromJson(j["latency_histogram"], where + ".latency_histogram");
  if (!h.ok()) return h.error();
  r.latency = std::move(h).value();
  if (r.latency.count() != r.delivered) {
    return LoadError(where + ": latency_histogram holds " + std::to_string(r.latency.count()) + " samples but delivered is " +
                     std::to_string(r.delivered));
  }
  if (r.shard_count == 0 || r.shard_index >= r.shard_count) {
    return LoadError(where + ": shard index " + std::to_string(r.shard_index) + " is not below shard count " +
                     std::to_string(r.shard_count));
  }
  return r;
}

Result<LoadReport> MergeLoadReports(std::span<const LoadReport> shards) {
  if (shards.empty()) return LoadError("nothing to merge");
  const LoadReport& first = shards[0];
  const uint32_t n = first.shard_count;
  std::vector<int> seen(n, 0);
  LoadReport m = first;
  m.subscribers = m.publishers = 0;
  m.sent = m.delivered = m.expected = m.unknown_payloads = m.errors = 0;
  m.first_error.clear();
  m.load_start_unix_ns = 0;
  m.last_delivery_unix_ns = 0;
  m.setup_seconds = 0;
  m.loadavg_1m = 0;
  m.finished = true;
  m.latency = Histogram(first.latency.significant_digits());
  m.shard_index = 0;
  m.shards_merged = 0;
  for (const LoadReport& s : shards) {
    const std::string name = "shard " + std::to_string(s.shard_index) + "/" + std::to_string(s.shard_count);
    if (s.shard_count != n) {
      return LoadError(name + " belongs to a load of " + std::to_string(s.shard_count) + " shards, the first input to one of " +
                       std::to_string(n));
    }
    if (s.shards_merged != 1) return LoadError(name + " is already a merge of " + std::to_string(s.shards_merged) + " shards");
    if (seen[s.shard_index]++) return LoadError(name + " is given twice (its counts would be added twice)");
    if (s.sub != first.sub || s.pub != first.pub || s.mode != first.mode || s.messages != first.messages ||
        s.size != first.size || s.clock != first.clock) {
      return LoadError(name + " is another load (sub, pub, mode, messages, size or clock differ from shard " +
                       std::to_string(first.shard_index) + ")");
    }
    m.subscribers += s.subscribers;
    m.publishers += s.publishers;
    m.sent += s.sent;
    m.delivered += s.delivered;
    m.expected += s.expected;
    m.unknown_payloads += s.unknown_payloads;
    m.errors += s.errors;
    if (m.first_error.empty() && !s.first_error.empty()) m.first_error = name + ": " + s.first_error;
    if (s.load_start_unix_ns != 0 && (m.load_start_unix_ns == 0 || s.load_start_unix_ns < m.load_start_unix_ns)) {
      m.load_start_unix_ns = s.load_start_unix_ns;
    }
    m.last_delivery_unix_ns = std::max(m.last_delivery_unix_ns, s.last_delivery_unix_ns);
    m.setup_seconds = std::max(m.setup_seconds, s.setup_seconds);
    m.loadavg_1m = std::max(m.loadavg_1m, s.loadavg_1m);
    m.finished = m.finished && s.finished;
    if (Status st = m.latency.Merge(s.latency); !st.ok()) return LoadError(name + ": " + st.error().message);
    ++m.shards_merged;
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (!seen[i]) {
      m.finished = false;
      if (m.first_error.empty()) m.first_error = "shard " + std::to_string(i) + "/" + std::to_string(n) + " is missing";
      return LoadError("shard " + std::to_string(i) + "/" + std::to_string(n) + " is missing (give every shard's report)");
    }
  }
  return m;
}

std::string LoadSummaryLine(const LoadReport& r) {
  const double pcts[] = {50, 99, 99.9};
  const std::vector<int64_t> q = r.latency.ValuesAtPercentiles(pcts);
  std::string mode = r.mode == "open" ? "open loop " + std::to_string(static_cast<long>(r.rate_msgs_per_s)) + " msg/s"
                                      : "closed loop, " + std::to_string(r.inflight) + " in flight";
  if (r.shards_merged > 1) {
    mode += ", " + std::to_string(r.shards_merged) + " shards merged";
  } else if (r.shard_count > 1) {
    mode += ", shard " + std::to_string(r.shard_index) + "/" + std::to_string(r.shard_count);
  }
  char buf[1024];
  snprintf(buf, sizeof buf,
           "%s%s%s sub=%s pub=%s subscribers=%u messages=%" PRIu64 " size=%u %s: delivered %" PRIu64 "/%" PRIu64
           " in %.3f s = %.0f deliveries/s; latency p50 %.3f ms p99 %.3f ms p99.9 %.3f ms max %.3f ms; setup %.2f s;"
           " errors %" PRIu64 "; unmatched payloads %" PRIu64 "; load %.2f",
           r.label.empty() ? "" : "[", r.label.c_str(), r.label.empty() ? "" : "] ", r.sub.c_str(), r.pub.c_str(),
           r.subscribers, r.messages, r.size, mode.c_str(), r.delivered, r.expected, r.load_seconds(), r.deliveries_per_s(),
           static_cast<double>(q[0]) / 1e6, static_cast<double>(q[1]) / 1e6, static_cast<double>(q[2]) / 1e6,
           static_cast<double>(r.latency.max()) / 1e6, r.setup_seconds, r.errors, r.unknown_payloads, r.loadavg_1m);
  std::string line = buf;
  if (!r.first_error.empty()) line += "; first error: " + r.first_error;
  return line;
}

}  // namespace wpsim::reports
