// wpsim-load's driver: one process, one thread, epoll, non-blocking sockets. N subscribers join
// one group (Web PubSub: the token's `webpubsub.group` claim; MQTT: SUBSCRIBE to the topic),
// publishers send M messages to it, and every subscriber counts what it receives. A delivery is
// matched to its message and timed on arrival by the payload marker (bench/load/wire.h).
//
// Shards (`--shard i/n`, and the workers of `--workers N`): the load's subscribers and publishers
// are split over n processes, possibly on several machines, all on the same group. Shard i's
// publishers send the messages whose sequence number is i mod n, every subscriber of every shard
// expects all M messages, and each shard reports its own counts and histogram
// (reports/load_report.h) for a merge. The closed loop's window is per shard: at most
// --inflight of ITS messages not yet delivered to all of ITS subscribers. Publishers of all shards
// start together: after a start barrier (workers: a pipe to the parent, which answers once every
// worker is ready) or at a wall-clock instant (--start-at, for machines that share no pipe).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/load/wire.h"
#include "reports/load_report.h"

namespace wpsim::load {

enum class SubKind { kWebSocket, kJson, kMqtt311, kMqtt5 };
enum class PubKind { kJson, kRest, kMqtt };

struct Options {
  std::string target = "ws://127.0.0.1:8080";
  std::string access_key;
  std::string hub = "load";
  std::string group = "load";
  std::string sub = "json";
  std::string pub = "json";
  uint32_t subscribers = 100;  // this process's share
  uint32_t publishers = 1;     // this process's share
  uint32_t messages = 1000;    // the whole load's
  uint32_t size = 64;
  uint32_t inflight = 32;      // this process's window
  double rate = 0;             // the whole load's messages per second; 0: closed loop
  double timeout_s = 120;
  uint32_t connect_batch = 200;
  uint32_t settle_ms = 200;
  std::string json_out;
  std::string label;
  uint32_t shard_index = 0;
  uint32_t shard_count = 1;
  double start_at_unix = 0;  // > 0: publish from this wall-clock instant (seconds since 1970)
  int ready_fd = -1;         // worker: write one byte when ready, then
  int go_fd = -1;            //   read the start instant (8 bytes, CLOCK_MONOTONIC ns)
};

// A usage error in the options ("" when none).
std::string CheckOptions(const Options& o, const Target& t, SubKind sub, PubKind pub);

struct Conn;

class Driver {
 public:
  Driver(Options options, Target target, SubKind sub, PubKind pub);
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  reports::LoadReport Run();

 private:
  bool Dial(Conn* c);
  void Close(Conn* c, const std::string& why);
  void Flush(Conn* c);
  void Send(Conn* c, std::string_view bytes);
  void OnReadable(Conn* c);
  void OnConnected(Conn* c);
  void Parse(Conn* c);
  size_t ParseFrames(Conn* c, std::string_view data);
  bool ParseHttpResponse(Conn* c);
  void OnFrame(Conn* c, uint8_t opcode, std::string_view payload);
  void OnMqttBytes(Conn* c, std::string_view bytes);
  void OnPayload(std::string_view payload);
  void MarkReady(Conn* c);
  void Publish(uint32_t seq, int64_t sent_ns);
  std::string UpgradeRequest(bool publisher) const;
  std::string ClientToken(bool publisher) const;
  std::string MqttClientId(const Conn* c) const;
  void Watch(Conn* c);
  bool Own(uint64_t seq) const { return seq % o_.shard_count == o_.shard_index; }
  uint32_t OwnSeq(uint32_t k) const { return o_.shard_index + k * o_.shard_count; }
  bool StartBarrier(int64_t* start_ns);

  Options o_;
  Target t_;
  SubKind sub_;
  PubKind pub_;
  bool realtime_ = false;  // the marker's clock (--start-at: shards on several machines)
  int epoll_ = -1;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> publishers_;
  std::vector<uint32_t> counts_;
  reports::Histogram latency_{3};
  uint64_t delivered_ = 0;
  uint64_t completed_ = 0;      // messages delivered to all of this process's subscribers
  uint64_t own_completed_ = 0;  // of them, this shard's own
  uint64_t unknown_ = 0;
  uint64_t errors_ = 0;
  uint64_t closed_ = 0;
  uint32_t own_total_ = 0;  // messages this shard publishes
  uint32_t sent_ = 0;       // of them, sent
  uint32_t ready_subs_ = 0;
  uint32_t ready_pubs_ = 0;
  uint32_t next_pub_ = 0;
  std::string first_error_;
  int64_t last_delivery_ns_ = 0;
  int64_t now_ns_ = 0;  // arrival time of the bytes being parsed (one clock read per recv)
  std::vector<char> rbuf_ = std::vector<char>(256 * 1024);
  std::string unmasked_;  // scratch for the rare masked server frame
};

}  // namespace wpsim::load
