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
#include "bench/load/workers.h"
#include "protocol/auth/connection_string.h"
#include "reports/load_report.h"

namespace {

using wpsim::load::Options;

int Finish(const wpsim::reports::LoadReport& r, const std::string& json_out) {
  printf("%s\n", wpsim::reports::LoadSummaryLine(r).c_str());
  fflush(stdout);
  if (!json_out.empty()) std::ofstream(json_out) << wpsim::reports::LoadReportToJson(r).dump(2) << "\n";
  return r.ok() ? 0 : 1;
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
    if (o.subscribers < n) {
      fprintf(stderr, "wpsim-load: every shard needs at least one subscriber (-c %u for %u shards)\n", o.subscribers, n);
      return 2;
    }
    o = wpsim::load::ShardOptions(o, i, n);
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
  if (workers > 1) {
    auto merged = wpsim::load::RunWorkers(o, t, sub, pub, workers, stdout);
    if (!merged.ok()) {
      fprintf(stderr, "wpsim-load: %s\n", merged.error().message.c_str());
      return 1;
    }
    return Finish(*merged, o.json_out);
  }
  wpsim::load::Driver driver(o, t, sub, pub);
  return Finish(driver.Run(), o.json_out);
}
