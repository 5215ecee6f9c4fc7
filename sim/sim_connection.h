// Internal to the simulated network (sim_network.cc, sim_connection.cc): links, connections
// and the Stream/Listener objects handed to users. See sim/sim_network.h for the theory of
// operation. Other modules include sim/sim_network.h and sim/sim_runtime.h only.
//
// A connection's endpoint states:
//   kConnecting --SYN-ACK--> kOpen --Close()/Reset()/destroy--> kClosed (user gets no calls)
//   kConnecting/kOpen --peer RST, stall timeout, network reset--> kDead (OnClosed once)
// Rules: a kClosed or kDead endpoint never sends data again; OnClosed is delivered at most once
// and never after a local Close/Reset; received bytes reach a closed endpoint only to be dropped
// (which keeps the window open, as a kernel would).
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "sim/byte_queue.h"
#include "sim/ring_queue.h"
#include "sim/scheduler.h"
#include "sim/seam.h"
#include "sim/sim_network.h"

namespace wpsim::sim {

struct SimLink {
  uint32_t from = 0;
  uint32_t to = 0;
  LinkConfig config;
  bool overridden = false;  // SetLink*() was called: SetDefaultLink() leaves it alone
  bool partitioned = false;
  Rng rng;
  Nanos free_at = 0;  // when the link finishes serializing the segments queued on it
  std::vector<std::pair<uint64_t, uint8_t>> stalled;  // (connection id, sending side)
};

class SimStream;

class SimConnection {
 public:
  SimConnection(SimNetwork* network, uint64_t id, uint32_t client_host, uint32_t server_host,
                Address client_address, Address server_address, uint64_t client_stream,
                uint64_t server_stream);
  ~SimConnection();
  SimConnection(const SimConnection&) = delete;
  SimConnection& operator=(const SimConnection&) = delete;

  uint64_t id() const { return id_; }
  uint32_t host(int side) const { return ep_[side].host; }
  uint64_t stream_id(int side) const { return ep_[side].stream_id; }
  const Address& address(int side) const { return address_[side]; }
  void AttachStream(int side, SimStream* stream) { ep_[side].stream = stream; }
  bool dead() const { return ep_[0].state >= State::kClosed && ep_[1].state >= State::kClosed; }

  // The Stream API of one side (0: dialer, 1: acceptor).
  void SetHandler(int side, StreamHandler* handler);
  bool Write(int side, std::span<const uint8_t> data);
  bool Write(int side, SharedBytes data);
  bool Writable(int side) const;
  size_t BufferedBytes(int side) const;
  // Bytes written by `side` that the peer's handler has not consumed yet (0 once the peer can
  // no longer receive them); 1 while the connection is still being established.
  uint64_t InFlight(int side) const;
  void Shutdown(int side);
  void Close(int side);
  void Reset(int side);
  void SetReadPaused(int side, bool paused);
  void Release(int side);  // the user's SimStream is gone

  // Driven by the network.
  // InFlight() may change: list this connection for the network's next recount. Called by every
  // member function that changes a state, `written` or `consumed`.
  void Touch() {
    if (!in_flight_touched_) {
      in_flight_touched_ = true;
      network_->TouchInFlight(id_);
    }
  }
  void Transmit(int side);    // turn-end flush of side's pipe
  void Established();         // the SYN-ACK reached the dialer
  // Bytes from `side` arrive no earlier than `time` (the server's data cannot beat its SYN-ACK).
  void SetEarliestArrival(int side, Nanos time) { pipe_[side].last_arrival = time; }
  void Resume(int side);      // side's pipe may flow again (heal)
  void ScheduleNetworkReset();
  void DetachAll();           // the network is being destroyed
  // What SimNetwork::BytesInFlight() last counted for this connection, and whether the
  // connection is listed for a recount (see Touch()).
  uint64_t in_flight_counted_ = 0;
  bool in_flight_touched_ = false;

 private:
  enum class State : uint8_t { kConnecting, kOpen, kClosed, kDead };
  enum class Cause : uint8_t { kNone, kPeerReset, kNetworkReset, kTimedOut, kPeerTimedOut };
  static constexpr uint8_t kFin = 1;
  static constexpr uint8_t kRst = 2;

  struct Segment {
    uint64_t end;  // the pipe's `sent` cursor after this segment
    Nanos arrival;
    uint8_t flags;
  };
  // Bytes from endpoint `side` to the other one.
  struct Pipe {
    SimLink* link = nullptr;
    ByteQueue data;  // bytes [consumed, written)
    RingQueue<Segment> segments;
    uint64_t written = 0;
    uint64_t sent = 0;
    uint64_t arrived = 0;
    uint64_t consumed = 0;
    Nanos last_arrival = 0;
    Nanos stalled_since = -1;
    EventId arrival_event = 0;
    EventId timeout_event = 0;
    bool fin_queued = false;
    bool fin_sent = false;
    bool fin_arrived = false;
    bool dirty = false;
  };
  struct Endpoint {
    StreamHandler* handler = nullptr;
    SimStream* stream = nullptr;
    uint64_t stream_id = 0;
    EventId notify_event = 0;
    uint32_t host = 0;
    State state = State::kOpen;
    Cause cause = Cause::kNone;
    bool close_pending = false;  // OnClosed still to be delivered
    bool released = false;
    bool read_paused = false;
    bool shutdown = false;
    bool end_delivered = false;
    bool want_writable = false;
  };

  Scheduler& scheduler();
  bool Usable(int side) const { return ep_[side].state == State::kOpen && !ep_[side].shutdown; }
  void AfterWrite(int side);
  Nanos ComputeArrival(Pipe& pipe, uint64_t bytes);
  void ScheduleArrival(int side);
  void OnArrival(int side);
  void Stall(int side);
  void OnStallTimeout(int side);
  void Deliver(int side);
  void DropArrived(int side);
  void ScheduleNotify(int side);
  void OnNotify(int side);
  void ReceiveReset(int side);
  // Kills the connection; sides still open get OnClosed with their cause (from the caller,
  // which must be a scheduler event).
  void Abort(Cause cause0, Cause cause1);
  void Purge(int side);
  void CancelPipeEvents(int side);
  void DeliverClosed(int side);
  bool HasSomethingToDeliver(int side) const;

  SimNetwork* network_;
  uint64_t id_;
  Address address_[2];
  Endpoint ep_[2];
  Pipe pipe_[2];
};

class SimStream final : public Stream {
 public:
  SimStream(SimConnection* connection, int side) : connection_(connection), side_(side) {
    connection_->AttachStream(side, this);
  }
  ~SimStream() override {
    if (connection_ != nullptr) connection_->Release(side_);
  }
  void Detach() { connection_ = nullptr; }

  void SetHandler(StreamHandler* handler) override {
    if (connection_ != nullptr) connection_->SetHandler(side_, handler);
  }
  bool Write(std::span<const uint8_t> data) override {
    return connection_ != nullptr && connection_->Write(side_, data);
  }
  bool Write(SharedBytes data) override {
    return connection_ != nullptr && connection_->Write(side_, std::move(data));
  }
  bool Writable() const override {
    return connection_ != nullptr && connection_->Writable(side_);
  }
  size_t BufferedBytes() const override {
    return connection_ != nullptr ? connection_->BufferedBytes(side_) : 0;
  }
  void Shutdown() override {
    if (connection_ != nullptr) connection_->Shutdown(side_);
  }
  void Close() override {
    if (connection_ != nullptr) connection_->Close(side_);
  }
  void Reset() override {
    if (connection_ != nullptr) connection_->Reset(side_);
  }
  void SetReadPaused(bool paused) override {
    if (connection_ != nullptr) connection_->SetReadPaused(side_, paused);
  }
  const Address& LocalAddress() const override {
    return connection_ != nullptr ? connection_->address(side_) : kNoAddress;
  }
  const Address& PeerAddress() const override {
    return connection_ != nullptr ? connection_->address(1 - side_) : kNoAddress;
  }
  uint64_t Id() const override { return id_cache(); }

 private:
  uint64_t id_cache() const { return connection_ != nullptr ? connection_->stream_id(side_) : 0; }
  static const Address kNoAddress;
  SimConnection* connection_;
  int side_;
};

class SimListener final : public Listener {
 public:
  SimListener(SimNetwork* network, uint32_t host, Address address)
      : network_(network), host_(host), address_(std::move(address)) {}
  ~SimListener() override {
    if (network_ != nullptr) network_->StopListening(host_, address_.port);
  }
  const Address& address() const override { return address_; }
  void Detach() { network_ = nullptr; }

 private:
  SimNetwork* network_;
  uint32_t host_;
  Address address_;
};

}  // namespace wpsim::sim
