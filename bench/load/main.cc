// wpsim-load: an external fan-out load driver — epoll, non-blocking sockets, one thread per
// process — for comparing `wpsim serve` with a peer broker from the outside (issue 15, `make
// bench-compare`, docs/performance.md "Peer comparison").
//
// Payloads carry a marker "M<seq:8 hex><send time:16 hex>" (padded with 'x' to --size), so a
// delivery is matched to its message and timed on arrival with one clock.
//
// Two load shapes, as in wpsim bench:
//   closed loop (default): at most --inflight messages not yet delivered to every subscriber; the
//     result is the maximum sustainable delivery rate;
//   open loop (--rate R): message k is due at start + k/R and timed from that instant, not from
//     when the driver got round to sending it (no coordinated omission).
//
// Client kinds (--sub): websocket (no subprotocol: the payload is the frame), json
// (json.webpubsub.azure.v1: the payload is the message's `data`), mqtt311 / mqtt5 (over
// WebSocket at /clients/mqtt/hubs/<hub> for ws:// targets, over plain TCP for mqtt:// targets).
// Publishers (--pub): json (sendToGroup from a json.webpubsub.azure.v1 connection), rest
// (POST .../groups/<g>/:send, text/plain, keep-alive, pipelined), mqtt (PUBLISH QoS 0).
//
// Beyond one process (bench/load/driver.h): --workers N forks N worker processes, each with its
// share of the subscribers and publishers, starts them together and merges their figures;
// --shard i/n --start-at T runs one shard of a load spread over machines, whose JSON reports
// `wpsim report merge` adds up.
//
// Exit status: 0 when every message reached every subscriber and nothing failed, 1 otherwise, 2
// on a usage error. The summary is one line on stdout; --json writes the figures as JSON.
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/load/driver.h"
#include "protocol/auth/connection_string.h"
#include "reports/load_report.h"

namespace {

using wpsim::load::Options;

uint32_t Share(uint32_t total, uint32_t index, uint32_t count) {
  return total / count + (index < total % count ? 1 : 0);
}

bool WriteAll(int fd, const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = write(fd, text.data() + off, text.size() - off);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return out;
    }
  }
}

int Finish(const wpsim::reports::LoadReport& r, const std::string& json_out) {
  printf("%s\n", wpsim::reports::LoadSummaryLine(r).c_str());
  fflush(stdout);
  if (!json_out.empty()) std::ofstream(json_out) << wpsim::reports::LoadReportToJson(r).dump(2) << "\n";
  return r.ok() ? 0 : 1;
}

// --workers N: N forked worker processes, shards 0..N-1 of one load on this machine; a pipe
// barrier starts their publishers together once every worker's connections are ready.
int RunWorkers(const Options& o, const wpsim::load::Target& t, wpsim::load::SubKind sub, wpsim::load::PubKind pub,
               uint32_t workers) {
  struct Worker {
    pid_t pid = -1;
    int ready = -1, go = -1, result = -1;
  };
  std::vector<Worker> ws(workers);
  for (uint32_t i = 0; i < workers; ++i) {
    int ready[2], go[2], result[2];
    if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(go, O_CLOEXEC) != 0 || pipe2(result, O_CLOEXEC) != 0) {
      fprintf(stderr, "wpsim-load: pipe: %s\n", strerror(errno));
      return 1;
    }
    fflush(stdout);
    const pid_t pid = fork();
    if (pid < 0) {
      fprintf(stderr, "wpsim-load: fork: %s\n", strerror(errno));
      return 1;
    }
    if (pid == 0) {
      for (uint32_t j = 0; j < i; ++j) {
        close(ws[j].ready);
        close(ws[j].go);
        close(ws[j].result);
      }
      close(ready[0]);
      close(go[1]);
      close(result[0]);
      Options wo = o;
      wo.shard_index = i;
      wo.shard_count = workers;
      wo.subscribers = Share(o.subscribers, i, workers);
      wo.publishers = std::max<uint32_t>(1, Share(o.publishers, i, workers));
      wo.inflight = std::max<uint32_t>(1, (o.inflight + workers - 1) / workers);
      wo.ready_fd = ready[1];
      wo.go_fd = go[0];
      wo.label = (o.label.empty() ? "" : o.label + ", ") + "worker " + std::to_string(i) + "/" + std::to_string(workers);
      wpsim::load::Driver driver(std::move(wo), t, sub, pub);
      const wpsim::reports::LoadReport r = driver.Run();
      const bool ok = WriteAll(result[1], wpsim::reports::LoadReportToJson(r).dump());
      _exit(ok && r.ok() ? 0 : 1);
    }
    close(ready[1]);
    close(go[0]);
    close(result[1]);
    ws[i] = Worker{pid, ready[0], go[1], result[0]};
  }
  // The barrier: one byte from every worker, then the common start instant to all.
  bool all_ready = true;
  const int64_t deadline = wpsim::load::NowNs() + static_cast<int64_t>(o.timeout_s * 1e9);
  for (Worker& w : ws) {
    pollfd p{w.ready, POLLIN, 0};
    const int64_t left_ms = (deadline - wpsim::load::NowNs()) / 1'000'000;
    char byte = 0;
    if (left_ms <= 0 || poll(&p, 1, static_cast<int>(left_ms)) != 1 || read(w.ready, &byte, 1) != 1) {
      all_ready = false;
      break;
    }
  }
  if (all_ready) {
    const int64_t start = wpsim::load::NowNs() + int64_t{o.settle_ms} * 1'000'000;
    for (Worker& w : ws) {
      if (write(w.go, &start, sizeof start) != static_cast<ssize_t>(sizeof start)) all_ready = false;
    }
  }
  for (Worker& w : ws) {
    close(w.go);  // a worker still waiting reads end-of-file: "no start"
    close(w.ready);
  }
  std::vector<wpsim::reports::LoadReport> reports;
  std::string failure;
  for (uint32_t i = 0; i < workers; ++i) {
    const std::string text = ReadAll(ws[i].result);
    close(ws[i].result);
    int status = 0;
    waitpid(ws[i].pid, &status, 0);
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    auto r = wpsim::reports::LoadReportFromJson(j, "worker " + std::to_string(i));
    if (!r.ok()) {
      if (failure.empty()) failure = "worker " + std::to_string(i) + " wrote no report (exit status " + std::to_string(status) + ")";
      continue;
    }
    printf("%s\n", wpsim::reports::LoadSummaryLine(*r).c_str());
    reports.push_back(std::move(r).value());
  }
  if (!failure.empty()) {
    fprintf(stderr, "wpsim-load: %s\n", failure.c_str());
    return 1;
  }
  auto merged = wpsim::reports::MergeLoadReports(reports);
  if (!merged.ok()) {
    fprintf(stderr, "wpsim-load: merging the workers: %s\n", merged.error().message.c_str());
    return 1;
  }
  merged->label = o.label;
  return Finish(*merged, o.json_out);
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Options o;
  std::string connection_string;
  std::string shard;
  uint32_t workers = 1;
  CLI::App app{"wpsim-load: external fan-out load driver (epoll; one process, or --workers N) for wpsim serve or an MQTT broker"};
  app.add_option("--target", o.target, "ws://HOST:PORT (Web PubSub service) or mqtt://HOST:PORT (MQTT over TCP)")
      ->capture_default_str();
  app.add_option("--connection-string", connection_string,
                 "Endpoint=http://HOST:PORT;AccessKey=...;Version=1.0; (sets --target and --access-key)");
  app.add_option("--access-key", o.access_key, "Access key the tokens are signed with");
  app.add_option("--hub", o.hub, "Hub")->capture_default_str();
  app.add_option("--group", o.group, "Group (MQTT: topic)")->capture_default_str();
  app.add_option("--sub", o.sub, "Subscriber kind: websocket | json | mqtt311 | mqtt5")->capture_default_str();
  app.add_option("--pub", o.pub, "Publisher kind: json | rest | mqtt")->capture_default_str();
  app.add_option("-c,--subscribers", o.subscribers, "Subscriber connections (of the whole load)")->capture_default_str()->check(CLI::Range(1u, 1000000u));
  app.add_option("--publishers", o.publishers, "Publisher connections (round robin; each worker or shard has at least one)")
      ->capture_default_str()->check(CLI::Range(1u, 64u));
  app.add_option("-n,--messages", o.messages, "Messages to send")->capture_default_str()->check(CLI::Range(1u, 100000000u));
  app.add_option("--size", o.size, "Payload bytes (at least 25: the marker)")->capture_default_str()->check(CLI::Range(25u, 1u << 20));
  app.add_option("--inflight", o.inflight, "Closed loop: messages not yet delivered to every subscriber (split over workers)")
      ->capture_default_str()->check(CLI::Range(1u, 100000u));
  app.add_option("--rate", o.rate, "Open loop: messages per second of the whole load (0: closed loop)")->capture_default_str()->check(CLI::Range(0.0, 1e7));
  app.add_option("--timeout", o.timeout_s, "Give up after this many seconds")->capture_default_str()->check(CLI::Range(1.0, 86400.0));
  app.add_option("--connect-batch", o.connect_batch, "Connections in their handshake at once")->capture_default_str()->check(CLI::Range(1u, 10000u));
  app.add_option("--settle-ms", o.settle_ms, "Pause between the last subscriber being ready and the first message")->capture_default_str();
  app.add_option("--workers", workers, "Worker processes on this machine (shares of the subscribers and publishers; figures merged)")
      ->capture_default_str()->check(CLI::Range(1u, 256u));
  app.add_option("--shard", shard, "I/N: run shard I of a load spread over N drivers (machines); needs --start-at");
  app.add_option("--start-at", o.start_at_unix,
                 "Shards: wall-clock instant (seconds since 1970, e.g. $(date -d '+60 sec' +%s)) at which every shard starts publishing");
  app.add_option("--json", o.json_out, "Write the figures as JSON (kind wpsim-load; merge shards with wpsim report merge)");
  app.add_option("--label", o.label, "Label printed with the summary");
  CLI11_PARSE(app, argc, argv);

  if (!connection_string.empty()) {
    auto cs = wpsim::protocol::auth::ParseConnectionString(connection_string);
    if (!cs.ok()) {
      fprintf(stderr, "wpsim-load: --connection-string: %s\n", cs.error().message.c_str());
      return 2;
    }
    if (cs->scheme != "http") {
      fprintf(stderr, "wpsim-load: --connection-string: only http:// endpoints (no TLS in this driver)\n");
      return 2;
    }
    o.target = "ws://" + cs->host + ":" + std::to_string(cs->port.value_or(80));
    o.access_key = cs->access_key;
  }
  wpsim::load::Target t;
  std::string error;
  if (!wpsim::load::ParseTarget(o.target, &t, &error)) {
    fprintf(stderr, "wpsim-load: %s\n", error.c_str());
    return 2;
  }
  wpsim::load::SubKind sub;
  if (o.sub == "websocket") {
    sub = wpsim::load::SubKind::kWebSocket;
  } else if (o.sub == "json") {
    sub = wpsim::load::SubKind::kJson;
  } else if (o.sub == "mqtt311") {
    sub = wpsim::load::SubKind::kMqtt311;
  } else if (o.sub == "mqtt5") {
    sub = wpsim::load::SubKind::kMqtt5;
  } else {
    fprintf(stderr, "wpsim-load: unknown --sub '%s' (websocket, json, mqtt311, mqtt5)\n", o.sub.c_str());
    return 2;
  }
  wpsim::load::PubKind pub;
  if (o.pub == "json") {
    pub = wpsim::load::PubKind::kJson;
  } else if (o.pub == "rest") {
    pub = wpsim::load::PubKind::kRest;
  } else if (o.pub == "mqtt") {
    pub = wpsim::load::PubKind::kMqtt;
  } else {
    fprintf(stderr, "wpsim-load: unknown --pub '%s' (json, rest, mqtt)\n", o.pub.c_str());
    return 2;
  }
  if (!shard.empty()) {
    unsigned i = 0, n = 0;
    char tail = 0;
    if (sscanf(shard.c_str(), "%u/%u%c", &i, &n, &tail) != 2 || n == 0 || i >= n) {
      fprintf(stderr, "wpsim-load: --shard wants I/N with 0 <= I < N, got '%s'\n", shard.c_str());
      return 2;
    }
    if (workers > 1) {
      fprintf(stderr, "wpsim-load: --shard and --workers do not combine (run one sharded driver per machine)\n");
      return 2;
    }
    if (n > 1 && o.start_at_unix <= 0) {
      fprintf(stderr, "wpsim-load: --shard %s needs --start-at (the instant every shard starts publishing)\n", shard.c_str());
      return 2;
    }
    o.shard_index = i;
    o.shard_count = n;
    o.subscribers = Share(o.subscribers, i, n);
    o.publishers = std::max<uint32_t>(1, Share(o.publishers, i, n));
  } else if (o.start_at_unix > 0 && workers > 1) {
    fprintf(stderr, "wpsim-load: --start-at is for --shard; --workers start together by themselves\n");
    return 2;
  }
  const uint32_t parts = std::max(workers, o.shard_count);
  if (o.subscribers == 0 || (shard.empty() && o.subscribers < parts)) {
    fprintf(stderr, "wpsim-load: every worker or shard needs at least one subscriber (-c %u for %u)\n", o.subscribers, parts);
    return 2;
  }
  if (std::string e = wpsim::load::CheckOptions(o, t, sub, pub); !e.empty()) {
    fprintf(stderr, "wpsim-load: %s\n", e.c_str());
    return 2;
  }
  if (workers > 1) return RunWorkers(o, t, sub, pub, workers);
  wpsim::load::Driver driver(o, t, sub, pub);
  return Finish(driver.Run(), o.json_out);
}
