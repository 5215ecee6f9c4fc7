#include "sim/sim_connection.h"

#include <algorithm>
#include <string>

namespace wpsim::sim {

const Address SimStream::kNoAddress{};

SimConnection::SimConnection(SimNetwork* network, uint64_t id, uint32_t client_host,
                             uint32_t server_host, Address client_address,
                             Address server_address, uint64_t client_stream,
                             uint64_t server_stream)
    : network_(network), id_(id) {
  address_[0] = std::move(client_address);
  address_[1] = std::move(server_address);
  ep_[0].host = client_host;
  ep_[1].host = server_host;
  ep_[0].stream_id = client_stream;
  ep_[1].stream_id = server_stream;
  ep_[0].state = State::kConnecting;
  ep_[1].state = State::kOpen;
  pipe_[0].link = &network->Link(client_host, server_host);
  pipe_[1].link = &network->Link(server_host, client_host);
  Touch();  // connecting: one "byte" in flight until established
}

SimConnection::~SimConnection() {
  network_->in_flight_total_ -= in_flight_counted_;
  for (int side = 0; side < 2; ++side) {
    CancelPipeEvents(side);
    if (ep_[side].notify_event != 0) scheduler().Cancel(ep_[side].notify_event);
    pipe_[side].data.Clear(network_->pool_);
  }
}

Scheduler& SimConnection::scheduler() { return network_->scheduler_; }

void SimConnection::SetHandler(int side, StreamHandler* handler) {
  Endpoint& ep = ep_[side];
  if (ep.state == State::kClosed) return;
  ep.handler = handler;
  if (handler != nullptr && HasSomethingToDeliver(side)) ScheduleNotify(side);
}

bool SimConnection::HasSomethingToDeliver(int side) const {
  const Endpoint& ep = ep_[side];
  const Pipe& in = pipe_[1 - side];
  const Pipe& out = pipe_[side];
  if (ep.state == State::kDead) return ep.close_pending;
  if (ep.state != State::kOpen) return false;
  if (ep.want_writable && out.written - out.sent <= network_->options_.low_water_bytes) {
    return true;
  }
  if (ep.read_paused) return false;
  return in.arrived > in.consumed || (in.fin_arrived && !ep.end_delivered);
}

bool SimConnection::Write(int side, std::span<const uint8_t> data) {
  if (!Usable(side)) return false;
  if (data.empty()) return true;
  Pipe& p = pipe_[side];
  WPSIM_ASSERT(p.written - p.sent + data.size() <=
               network_->options_.stream_buffer_bytes_max);
  p.data.Append(network_->pool_, data);
  p.written += data.size();
  AfterWrite(side);
  return true;
}

bool SimConnection::Write(int side, SharedBytes data) {
  if (!Usable(side)) return false;
  if (data.empty()) return true;
  Pipe& p = pipe_[side];
  const size_t n = data.size();
  WPSIM_ASSERT(p.written - p.sent + n <= network_->options_.stream_buffer_bytes_max);
  p.data.Append(network_->pool_, std::move(data));
  p.written += n;
  AfterWrite(side);
  return true;
}

void SimConnection::AfterWrite(int side) {
  Pipe& p = pipe_[side];
  Touch();
  if (!p.dirty) {
    p.dirty = true;
    network_->MarkDirty(this, side);
  }
  if (p.written - p.sent > network_->options_.high_water_bytes) ep_[side].want_writable = true;
}

bool SimConnection::Writable(int side) const {
  const Pipe& p = pipe_[side];
  return Usable(side) && p.written - p.sent <= network_->options_.high_water_bytes;
}

size_t SimConnection::BufferedBytes(int side) const {
  const Pipe& p = pipe_[side];
  return static_cast<size_t>(p.written - p.sent);
}

void SimConnection::Shutdown(int side) {
  if (!Usable(side)) return;
  ep_[side].shutdown = true;
  pipe_[side].fin_queued = true;
  AfterWrite(side);
  network_->Record(ep_[side].host, ep_[side].stream_id, "net.shutdown");
}

void SimConnection::Close(int side) {
  Touch();
  Endpoint& ep = ep_[side];
  if (ep.state == State::kClosed) return;
  const bool was_alive = ep.state == State::kOpen || ep.state == State::kConnecting;
  ep.state = State::kClosed;
  ep.handler = nullptr;
  ep.close_pending = false;
  if (ep.notify_event != 0) scheduler().Cancel(std::exchange(ep.notify_event, 0));
  if (!was_alive) return;
  network_->Record(ep.host, ep.stream_id, "net.close");
  if (!ep.shutdown) {
    ep.shutdown = true;
    pipe_[side].fin_queued = true;
    AfterWrite(side);
  }
  DropArrived(side);
}

void SimConnection::Reset(int side) {
  Touch();
  Endpoint& ep = ep_[side];
  if (ep.state == State::kClosed) return;
  const bool was_alive = ep.state == State::kOpen || ep.state == State::kConnecting;
  ep.state = State::kClosed;
  ep.handler = nullptr;
  ep.close_pending = false;
  if (ep.notify_event != 0) scheduler().Cancel(std::exchange(ep.notify_event, 0));
  if (!was_alive) return;
  network_->Record(ep.host, ep.stream_id, "net.reset");
  ++network_->stats_.resets;
  Pipe& out = pipe_[side];
  Purge(side);
  Purge(1 - side);
  out.fin_queued = false;
  out.fin_sent = true;  // nothing more leaves this side
  const State peer = ep_[1 - side].state;
  if (peer != State::kOpen && peer != State::kConnecting) {
    CancelPipeEvents(side);
    CancelPipeEvents(1 - side);
    return;
  }
  // The RST overtakes nothing (the pipe is empty now) but still crosses the link: it waits out
  // partitions like data, and the peer learns of the reset one latency later.
  if (out.arrival_event != 0) scheduler().Cancel(std::exchange(out.arrival_event, 0));
  out.segments.push_back(Segment{out.sent, ComputeArrival(out, 0), kRst});
  ScheduleArrival(side);
}

void SimConnection::SetReadPaused(int side, bool paused) {
  Endpoint& ep = ep_[side];
  if (ep.state == State::kClosed) return;
  ep.read_paused = paused;
  if (!paused && ep.handler != nullptr && HasSomethingToDeliver(side)) ScheduleNotify(side);
}

void SimConnection::Release(int side) {
  Touch();
  Endpoint& ep = ep_[side];
  ep.stream = nullptr;
  // seam.h: destroying a stream that was neither closed nor reset resets it; after Close() the
  // connection lives on here until the queued bytes and the FIN are through.
  if (ep.state == State::kOpen) Reset(side);
  ep.state = State::kClosed;
  ep.handler = nullptr;
  ep.close_pending = false;
  if (ep.notify_event != 0) scheduler().Cancel(std::exchange(ep.notify_event, 0));
  ep.released = true;
  if (ep_[0].released && ep_[1].released) network_->MarkGarbage(id_);
}

void SimConnection::DetachAll() {
  for (Endpoint& ep : ep_) {
    if (ep.stream != nullptr) ep.stream->Detach();
    ep.stream = nullptr;
    ep.handler = nullptr;
  }
}

uint64_t SimConnection::InFlight(int side) const {
  const Endpoint& rx = ep_[1 - side];
  if (ep_[side].state == State::kConnecting || rx.state == State::kConnecting) return 1;
  if (rx.state != State::kOpen) return 0;
  const Pipe& p = pipe_[side];
  return p.written - p.consumed;
}

void SimConnection::Purge(int side) {
  Touch();
  Pipe& p = pipe_[side];
  p.data.Clear(network_->pool_);
  p.sent = p.arrived = p.consumed = p.written;
  p.segments.clear();
  p.segments.ShrinkIfEmpty(0);
  if (p.arrival_event != 0) scheduler().Cancel(std::exchange(p.arrival_event, 0));
}

void SimConnection::CancelPipeEvents(int side) {
  Pipe& p = pipe_[side];
  if (p.arrival_event != 0) scheduler().Cancel(std::exchange(p.arrival_event, 0));
  if (p.timeout_event != 0) scheduler().Cancel(std::exchange(p.timeout_event, 0));
  p.stalled_since = -1;
}

Nanos SimConnection::ComputeArrival(Pipe& pipe, uint64_t bytes) {
  SimLink& link = *pipe.link;
  const Nanos now = scheduler().now();
  Nanos done = now;
  const uint64_t bandwidth = link.config.bandwidth_bytes_per_s;
  if (bandwidth > 0) {
    // Serialization: the segment waits for the link, then occupies it for bytes / bandwidth.
    const Nanos start = std::max(now, link.free_at);
    const auto wire = static_cast<Nanos>(
        (static_cast<__uint128_t>(bytes) * kSecond + bandwidth - 1) / bandwidth);
    done = start + wire;
    link.free_at = done;
  }
  const Nanos arrival = std::max(done + network_->SampleDelay(link), pipe.last_arrival);
  pipe.last_arrival = arrival;
  return arrival;
}

void SimConnection::Transmit(int side) {
  Pipe& p = pipe_[side];
  Endpoint& ep = ep_[side];
  p.dirty = false;
  if (ep.state == State::kDead) return;
  const NetworkOptions& options = network_->options_;
  const uint64_t window = p.link->config.receive_window_bytes != 0
                              ? p.link->config.receive_window_bytes
                              : options.receive_window_bytes;
  bool created = false;
  while (p.sent < p.written) {
    const uint64_t in_use = p.sent - p.consumed;
    if (in_use >= window) break;
    const uint64_t n = std::min({p.written - p.sent, window - in_use,
                                 static_cast<uint64_t>(options.segment_bytes_max)});
    const Nanos arrival = ComputeArrival(p, n);
    p.sent += n;
    p.segments.push_back(Segment{p.sent, arrival, 0});
    created = true;
    ++network_->stats_.segments_sent;
    network_->stats_.bytes_sent += n;
    network_->Record(ep.host, ep.stream_id, "net.send", n);
  }
  if (p.fin_queued && !p.fin_sent && p.sent == p.written) {
    p.fin_sent = true;
    if (created) {
      p.segments.back().flags |= kFin;
    } else {
      p.segments.push_back(Segment{p.sent, ComputeArrival(p, 0), kFin});
    }
  }
  ScheduleArrival(side);
  if (ep.want_writable && ep.state == State::kOpen && p.written - p.sent <= options.low_water_bytes) {
    ScheduleNotify(side);
  }
}

void SimConnection::ScheduleArrival(int side) {
  Pipe& p = pipe_[side];
  if (p.arrival_event != 0 || p.stalled_since >= 0 || p.segments.empty()) return;
  p.arrival_event =
      scheduler().ScheduleAt(p.segments.front().arrival, [this, side] { OnArrival(side); });
}

void SimConnection::OnArrival(int side) {
  Pipe& p = pipe_[side];
  p.arrival_event = 0;
  if (p.link->partitioned) {
    Stall(side);
    return;
  }
  const Nanos now = scheduler().now();
  bool reset = false;
  while (!p.segments.empty() && p.segments.front().arrival <= now) {
    const Segment seg = p.segments.front();
    p.segments.pop_front();
    if ((seg.flags & kRst) != 0) {
      reset = true;
      break;
    }
    p.arrived = seg.end;
    if ((seg.flags & kFin) != 0) p.fin_arrived = true;
  }
  p.segments.ShrinkIfEmpty(8);
  if (reset) {
    ReceiveReset(1 - side);
    return;
  }
  ScheduleArrival(side);
  Deliver(1 - side);
}

void SimConnection::Stall(int side) {
  Pipe& p = pipe_[side];
  if (p.stalled_since >= 0) return;
  const Nanos now = scheduler().now();
  p.stalled_since = now;
  p.link->stalled.emplace_back(id_, static_cast<uint8_t>(side));
  p.timeout_event = scheduler().ScheduleAt(now + network_->options_.stall_timeout,
                                           [this, side] { OnStallTimeout(side); });
  network_->Record(ep_[side].host, ep_[side].stream_id, "net.stall", 0, 0,
                   address_[1 - side].host);
}

void SimConnection::Resume(int side) {
  Pipe& p = pipe_[side];
  if (p.stalled_since < 0) return;
  p.stalled_since = -1;
  if (p.timeout_event != 0) scheduler().Cancel(std::exchange(p.timeout_event, 0));
  if (p.segments.empty()) return;
  // The sender retransmits what the partition swallowed: everything still in flight arrives
  // one fresh latency after the heal at the earliest, in order.
  const Nanos base = scheduler().now() + network_->SampleDelay(*p.link);
  Nanos last = 0;
  for (uint32_t i = 0; i < p.segments.size(); ++i) {
    Segment& seg = p.segments[i];
    seg.arrival = std::max({seg.arrival, base, last});
    last = seg.arrival;
  }
  p.last_arrival = std::max(p.last_arrival, last);
  ScheduleArrival(side);
}

void SimConnection::OnStallTimeout(int side) {
  Pipe& p = pipe_[side];
  p.timeout_event = 0;
  if (p.stalled_since < 0) return;
  ++network_->stats_.timeouts;
  network_->Record(ep_[side].host, ep_[side].stream_id, "net.timeout", 0, 0,
                   address_[1 - side].host);
  if (side == 0) {
    Abort(Cause::kTimedOut, Cause::kPeerTimedOut);
  } else {
    Abort(Cause::kPeerTimedOut, Cause::kTimedOut);
  }
}

void SimConnection::ReceiveReset(int side) {
  if (side == 0) {
    Abort(Cause::kPeerReset, Cause::kNone);
  } else {
    Abort(Cause::kNone, Cause::kPeerReset);
  }
}

void SimConnection::ScheduleNetworkReset() {
  SimNetwork* network = network_;
  const uint64_t id = id_;
  network_->scheduler_.ScheduleAt(network_->now(), [network, id] {
    if (SimConnection* c = network->FindConnection(id)) {
      c->Abort(Cause::kNetworkReset, Cause::kNetworkReset);
    }
  });
}

void SimConnection::Abort(Cause cause0, Cause cause1) {
  Touch();
  const Cause causes[2] = {cause0, cause1};
  for (int side = 0; side < 2; ++side) {
    Endpoint& ep = ep_[side];
    if ((ep.state == State::kOpen || ep.state == State::kConnecting) &&
        causes[side] != Cause::kNone) {
      ep.state = State::kDead;
      ep.cause = causes[side];
      ep.close_pending = true;
      const CloseReason reason =
          causes[side] == Cause::kTimedOut ? CloseReason::kTimeout : CloseReason::kReset;
      network_->Record(ep.host, ep.stream_id, "net.closed", 0, 0,
                       std::string(CloseReasonName(reason)));
    }
  }
  for (int side = 0; side < 2; ++side) {
    Purge(side);
    CancelPipeEvents(side);
    pipe_[side].fin_sent = true;
  }
  DeliverClosed(0);
  DeliverClosed(1);
}

void SimConnection::DeliverClosed(int side) {
  Endpoint& ep = ep_[side];
  if (ep.state != State::kDead || !ep.close_pending || ep.handler == nullptr) return;
  ep.close_pending = false;
  if (ep.notify_event != 0) scheduler().Cancel(std::exchange(ep.notify_event, 0));
  CloseReason reason = CloseReason::kReset;
  std::string detail;
  switch (ep.cause) {
    case Cause::kPeerReset: detail = "connection reset by peer"; break;
    case Cause::kNetworkReset: detail = "connection reset by the network"; break;
    case Cause::kTimedOut:
      reason = CloseReason::kTimeout;
      detail = "no progress for " +
               std::to_string(network_->options_.stall_timeout / kMillisecond) +
               " ms (peer unreachable)";
      break;
    case Cause::kPeerTimedOut:
      detail = "connection reset by the network (the peer's sending side timed out)";
      break;
    case Cause::kNone: break;
  }
  ep.handler->OnClosed(reason, detail);
}

void SimConnection::DropArrived(int side) {
  Touch();
  Pipe& in = pipe_[1 - side];
  const uint64_t n = in.arrived - in.consumed;
  if (n == 0) return;
  in.data.Drop(network_->pool_, n);
  in.consumed = in.arrived;
  if (in.sent < in.written && !in.dirty) {
    in.dirty = true;
    network_->MarkDirty(this, 1 - side);
  }
}

void SimConnection::Deliver(int side) {
  Touch();
  Endpoint& ep = ep_[side];
  Pipe& in = pipe_[1 - side];
  if (ep.state == State::kClosed) {
    DropArrived(side);
    return;
  }
  if (ep.state != State::kOpen || ep.handler == nullptr || ep.read_paused) return;
  Trace* trace = network_->options_.trace;
  while (in.consumed < in.arrived) {
    ByteQueue::Piece piece = in.data.TakeFront(network_->pool_, in.arrived - in.consumed);
    in.consumed += piece.size();
    ++network_->stats_.deliveries;
    network_->stats_.bytes_delivered += piece.size();
    if (trace != nullptr) {
      network_->Record(ep.host, ep.stream_id, "net.deliver", piece.size(),
                       Trace::Digest(piece.span()));
    }
    // Consumption reopens the window: the sender may send more at the end of this turn.
    if (in.sent < in.written && !in.dirty) {
      in.dirty = true;
      network_->MarkDirty(this, 1 - side);
    }
    ep.handler->OnData(piece.span());
    if (ep.state != State::kOpen || ep.handler == nullptr || ep.read_paused) return;
  }
  if (in.fin_arrived && !ep.end_delivered) {
    ep.end_delivered = true;
    network_->Record(ep.host, ep.stream_id, "net.end");
    ep.handler->OnEnd();
  }
}

void SimConnection::ScheduleNotify(int side) {
  Endpoint& ep = ep_[side];
  if (ep.notify_event != 0) return;
  ep.notify_event = scheduler().ScheduleAt(scheduler().now(), [this, side] { OnNotify(side); });
}

void SimConnection::OnNotify(int side) {
  Endpoint& ep = ep_[side];
  ep.notify_event = 0;
  if (ep.state == State::kDead) {
    DeliverClosed(side);
    return;
  }
  if (ep.state != State::kOpen || ep.handler == nullptr) return;
  Deliver(side);
  const Pipe& out = pipe_[side];
  if (ep.state == State::kOpen && ep.handler != nullptr && ep.want_writable &&
      out.written - out.sent <= network_->options_.low_water_bytes) {
    ep.want_writable = false;
    ep.handler->OnWritable();
  }
}

void SimConnection::Established() {
  Touch();
  if (ep_[0].state == State::kConnecting) ep_[0].state = State::kOpen;
}

}  // namespace wpsim::sim
