#include "service/subscriber.h"

namespace wpsim::service {

std::string_view ClientKindName(ClientKind kind) {
  switch (kind) {
    case ClientKind::kRaw: return "raw";
    case ClientKind::kJson: return "json";
    case ClientKind::kReliable: return "reliable";
    case ClientKind::kMqtt: return "mqtt";
    case ClientKind::kProtobuf: return "protobuf";
    case ClientKind::kReliableProtobuf: return "reliable-protobuf";
  }
  return "unknown";
}
bool FilterMatches(const protocol::rest::ODataFilter& filter, const Subscriber& subscriber) {
  if (filter.matches_all()) return true;
  protocol::rest::ContainerGroups groups(subscriber.groups);
  protocol::rest::FilterSubject subject;
  subject.connection_id = subscriber.connection_id;
  if (subscriber.user_id) subject.user_id = *subscriber.user_id;
  subject.protocol = subscriber.subprotocol();
  subject.groups = &groups;
  return filter.Matches(subject);
}

}  // namespace wpsim::service
