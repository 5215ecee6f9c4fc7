#include "clients/rest_client.h"

#include "protocol/auth/tokens.h"

namespace wpsim::clients {

namespace http = protocol::http;

RestClient::RestClient(sim::Runtime& runtime, std::string name, RestClientOptions options)
    : runtime_(runtime), name_(std::move(name)), options_(std::move(options)) {}

RestClient::~RestClient() {
  *alive_ = false;
  if (stream_) {
    stream_->SetHandler(nullptr);
    stream_->Close();
  }
}

void RestClient::Call(std::string method, std::string path_and_query, std::string content_type,
                      std::string body, std::string label, ResponseFn done,
                      const RestCallOptions& call) {
  const protocol::auth::ConnectionString& cs = options_.connection_string;
  if (!call.omit_api_version) {
    path_and_query += path_and_query.find('?') == std::string::npos ? "?" : "&";
    path_and_query += "api-version=" + call.api_version.value_or(options_.api_version);
  }
  http::Request request;
  request.method = std::move(method);
  request.target = cs.path + path_and_query;
  std::string host = cs.host;
  if (cs.port) host += ":" + std::to_string(*cs.port);
  request.headers.Add("Host", host);
  if (call.token) {
    const std::string token = call.token(cs.Endpoint() + path_and_query);
    if (!token.empty()) request.headers.Add("Authorization", "Bearer " + token);
  } else if (!options_.omit_authorization) {
    const int64_t now = runtime_.UnixNow() / sim::kSecond;
    const std::string url = cs.Endpoint() + path_and_query;
    request.headers.Add(
        "Authorization",
        "Bearer " + protocol::auth::BuildRestToken(
                        url, now, now + options_.token_lifetime_seconds,
                        options_.signing_key_override.value_or(cs.access_key)));
  }
  if (!content_type.empty()) request.headers.Add("Content-Type", content_type);
  for (const auto& [name, value] : call.headers) request.headers.Add(name, value);
  request.body = std::move(body);
  pending_.push_back(PendingCall{std::move(request), std::move(label), std::move(done)});
  Pump();
}

void RestClient::Pump() {
  if (in_flight_ || pending_.empty()) return;
  if (!stream_) {
    Dial();
    return;
  }
  in_flight_ = true;
  http_->SendRequest(pending_.front().request);
  Flush();
}

void RestClient::Flush() {
  if (!stream_ || !http_->HasOutput()) return;
  std::span<const uint8_t> out = http_->PeekOutput();
  stream_->Write(out);
  http_->ConsumeOutput(out.size());
}

void RestClient::Dial() {
  if (dialing_) return;
  dialing_ = true;
  sim::DialFn on_done = [this, alive = alive_](Result<std::unique_ptr<sim::Stream>> s) {
    if (!*alive) return;
    dialing_ = false;
    if (!s.ok()) {
      http::Response failed;
      failed.status = 0;
      failed.body = s.error().message;
      Complete(std::move(failed));
      return;
    }
    stream_ = std::move(s.value());
    stream_->SetHandler(this);
    http_ = std::make_unique<http::ClientConnection>();
    Pump();
  };
  if (options_.dial) {
    options_.dial(options_.service, std::move(on_done));
  } else {
    runtime_.Dial(options_.service, std::move(on_done));
  }
}

void RestClient::OnData(std::span<const uint8_t> data) {
  http_->Receive(data);
  while (auto event = http_->PollEvent()) {
    if (event->kind == http::ClientEvent::Kind::kError) {
      http::Response failed;
      failed.status = 0;
      failed.body = "invalid HTTP response: " + event->error.reason;
      DropStream();
      Complete(std::move(failed));
      return;
    }
    const bool keep = event->response.keep_alive;
    http::Response response = std::move(event->response);
    if (!keep) DropStream();
    Complete(std::move(response));
    if (!stream_) break;
  }
}

void RestClient::OnEnd() {
  DropStream();
  if (in_flight_) {
    http::Response failed;
    failed.status = 0;
    failed.body = "connection closed before the response";
    Complete(std::move(failed));
  }
}

void RestClient::OnClosed(sim::CloseReason, std::string_view detail) {
  if (stream_) stream_->SetHandler(nullptr);
  stream_.reset();  // already dead: destroying it resets nothing
  http_.reset();
  if (in_flight_) {
    http::Response failed;
    failed.status = 0;
    failed.body = "connection lost: " + std::string(detail);
    Complete(std::move(failed));
  }
}

void RestClient::DropStream() {
  if (!stream_) return;
  stream_->SetHandler(nullptr);
  stream_->Close();
  stream_.reset();
  http_.reset();
}

void RestClient::Complete(http::Response response) {
  if (pending_.empty()) return;
  PendingCall call = std::move(pending_.front());
  pending_.pop_front();
  in_flight_ = false;
  Observation o;
  o.kind = Observation::Kind::kHttpResponse;
  o.time = runtime_.Now();
  o.http_status = response.status;
  o.text = response.body;
  o.label = call.label;
  if (options_.record_observations) observations_.push_back(o);
  if (on_observation) on_observation(o);
  if (call.done) call.done(response);
  Pump();
}

}  // namespace wpsim::clients
