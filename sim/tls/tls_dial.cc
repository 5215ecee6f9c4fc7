// DialTls and ListenTls: TCP dial/listen on any runtime plus a completed TLS handshake.
#include <map>

#include "sim/tls/tls.h"
#include "sim/trace.h"

namespace wpsim::sim {
namespace {

// Accepts TCP connections, runs their server handshakes, and hands over the ones that succeed.
class TlsListener final : public Listener {
 public:
  TlsListener(Runtime& runtime, std::shared_ptr<const TlsConfig> config, AcceptFn on_accept)
      : runtime_(runtime), config_(std::move(config)), on_accept_(std::move(on_accept)) {}

  Status Start(const Address& address) {
    auto inner =
        runtime_.Listen(address, [this](std::unique_ptr<Stream> s) { Accept(std::move(s)); });
    if (!inner.ok()) return inner.error();
    inner_ = std::move(inner.value());
    return Status::Ok();
  }

  const Address& address() const override { return inner_->address(); }

 private:
  void Accept(std::unique_ptr<Stream> tcp) {
    const uint64_t id = tcp->Id();
    Rng rng = TlsRngFor(runtime_, *tcp);
    auto tls = std::make_unique<TlsStream>(runtime_, std::move(tcp), config_, rng);
    tls->SetHandshakeCallback([this, id](const Status& status) {
      auto it = handshaking_.find(id);
      WPSIM_ASSERT(it != handshaking_.end());
      std::unique_ptr<TlsStream> stream = std::move(it->second);
      handshaking_.erase(it);
      // A failed handshake's stream is destroyed here, inside its own callback; TlsStream
      // allows that.
      if (status.ok()) on_accept_(std::move(stream));
    });
    handshaking_.emplace(id, std::move(tls));
  }

  Runtime& runtime_;
  std::shared_ptr<const TlsConfig> config_;
  AcceptFn on_accept_;
  std::unique_ptr<Listener> inner_;
  // Bounded by the TCP backlog and the handshake timeout. Declared last: destroyed first, so
  // their callbacks (which use the members above) can no longer run.
  std::map<uint64_t, std::unique_ptr<TlsStream>> handshaking_;
};

}  // namespace

void DialTls(Runtime& runtime, const Address& address, std::shared_ptr<const TlsConfig> config,
             DialFn on_done) {
  WPSIM_ASSERT(config != nullptr && !config->is_server());
  Runtime* rt = &runtime;
  runtime.Dial(address, [rt, config = std::move(config),
                         on_done = std::move(on_done)](Result<std::unique_ptr<Stream>> r) mutable {
    if (!r.ok()) {
      on_done(r.error());
      return;
    }
    std::unique_ptr<Stream> tcp = std::move(r.value());
    Rng rng = TlsRngFor(*rt, *tcp);
    // Owned by this holder until the handshake ends (the timeout guarantees it does).
    auto* holder = new std::unique_ptr<TlsStream>(
        std::make_unique<TlsStream>(*rt, std::move(tcp), config, rng));
    (*holder)->SetHandshakeCallback(
        [holder, on_done = std::move(on_done)](const Status& status) mutable {
          std::unique_ptr<TlsStream> stream = std::move(*holder);
          delete holder;
          if (!status.ok()) {
            on_done(status.error());
            return;  // `stream` is destroyed inside its own callback, which TlsStream allows
          }
          on_done(std::unique_ptr<Stream>(std::move(stream)));
        });
  });
}

Result<std::unique_ptr<Listener>> ListenTls(Runtime& runtime, const Address& address,
                                            std::shared_ptr<const TlsConfig> config,
                                            AcceptFn on_accept) {
  WPSIM_ASSERT(config != nullptr && config->is_server());
  auto listener = std::make_unique<TlsListener>(runtime, std::move(config), std::move(on_accept));
  Status st = listener->Start(address);
  if (!st.ok()) return st.error();
  return std::unique_ptr<Listener>(std::move(listener));
}

}  // namespace wpsim::sim
