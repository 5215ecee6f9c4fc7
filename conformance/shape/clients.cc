// The clients section: a mapping of client names to definitions (or a bare kind).
#include <set>

#include "conformance/shape/sections.h"
#include "conformance/steps/internal.h"

namespace wpsim::conformance::shape {
namespace {

const std::vector<EnumName<ClientKind>> kClientKinds = {
    {"websocket", ClientKind::kWebSocket}, {"json", ClientKind::kJson},
    {"reliable", ClientKind::kReliable},   {"mqtt311", ClientKind::kMqtt311},
    {"mqtt5", ClientKind::kMqtt5},         {"rest", ClientKind::kRest},
    {"protobuf", ClientKind::kProtobuf},   {"reliable_protobuf", ClientKind::kReliableProtobuf}};
const std::vector<EnumName<UrlStyle>> kUrlStyles = {{"path", UrlStyle::kPath},
                                                    {"legacy_query", UrlStyle::kLegacyQuery}};
const std::vector<EnumName<SequenceAckMode>> kSequenceAckModes = {
    {"auto", SequenceAckMode::kAuto}, {"manual", SequenceAckMode::kManual}};

constexpr unsigned kMqttKinds = KindBit(ClientKind::kMqtt311) | KindBit(ClientKind::kMqtt5);
constexpr unsigned kReliableKinds =
    KindBit(ClientKind::kReliable) | KindBit(ClientKind::kReliableProtobuf);
constexpr unsigned kConnectionKinds = KindBit(ClientKind::kWebSocket) | KindBit(ClientKind::kJson) |
                                      kReliableKinds | kMqttKinds | KindBit(ClientKind::kProtobuf);

uint32_t IndexOf(Context& c) { return static_cast<uint32_t>(c.scenario().clients.size()); }

// Keys for every client kind.
const Table<Client>& CommonTable() {
  static const Table<Client> t = {
      Declared<Client>("kind", "client kind",
                       {{"enum",
                         {"websocket", "json", "reliable", "mqtt311", "mqtt5", "rest", "protobuf",
                          "reliable_protobuf"}}},
                       "websocket, json, reliable, mqtt311, mqtt5, rest, protobuf or "
                       "reliable_protobuf (the protobuf subprotocols, PROTOCOL.md §7)",
                       true),
      For(kConnectionKinds,
          Custom<Client>("count", "integer 1..1000000",
                         {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000000}},
                         "Makes a cohort of N members `name[0]`..`name[N-1]` (even `count: 1`).",
                         [](Context& c, const Node& v, Client& client) {
                           if (auto n = c.Uint(v, "count", 1, 1000000)) {
                             client.count = static_cast<uint32_t>(*n);
                             client.is_cohort = true;
                           }
                         })),
      Custom<Client>("token", "token options", SchemaRef("token"),
                     "Token options; a bare fault name is shorthand: `token: expired`.",
                     [](Context& c, const Node& v, Client& client) {
                       if (auto token = ReadToken(c, v, client.kind == ClientKind::kRest))
                         client.token = *token;
                     }),
      Custom<Client>("network", "link settings", SchemaRef("link"),
                     "Per-client link settings (as in `network`).",
                     [](Context& c, const Node& v, Client& client) {
                       Map lm(c, v, "network of client " + Q(client.name), KeysOf(LinkTable()));
                       if (!lm.ok()) return;
                       client.network = ReadLink(c, lm);
                       c.client_network_set.insert(IndexOf(c));
                     }),
  };
  return t;
}

// Keys for connections (every kind but rest).
const Table<Client>& ConnectionTable() {
  static const Table<Client> t = {
      Opt("user", &Client::user, String(),
          "`sub` claim (user id); `{i}` is replaced by the member index."),
      Opt("roles", &Client::roles, StringList(), "`role` claim (string or list)."),
      Opt("groups", &Client::groups, StringList(), "`webpubsub.group` claim: joined at connect."),
      Opt("subprotocols", &Client::subprotocols, SubprotocolList(),
          "Override the offered subprotocols (`[]` offers none)."),
      Opt("query", &Client::query, StringMap(),
          "Extra upgrade query parameters (forwarded to the `connect` event)."),
      Opt("headers", &Client::headers, StringMap(), "Extra upgrade headers."),
      Opt("url_style", &Client::url_style, EnumValue(&kUrlStyles, "url style"),
          "`path` (`/client/hubs/{hub}`, default) or `legacy_query` (`/client/?hub={hub}`)."),
  };
  return t;
}

const Table<Client>& ReliableTable() {
  static const Table<Client> t = {
      Opt("sequence_ack", &Client::sequence_ack, EnumValue(&kSequenceAckModes, "sequence_ack mode"),
          "`reliable` only: `auto` (cumulative acks every second, like the SDK) or `manual` (only "
          "`sequence_ack` "
          "steps)."),
  };
  return t;
}

const Table<Client>& RestTable() {
  static const Table<Client> t = {
      Custom<Client>("api_version", "string", {{"type", "string"}},
                     "`rest` only: api-version (default 2024-12-01).",
                     [](Context& c, const Node& v, Client&) {
                       if (auto s = c.NonEmptyStr(v, "api_version"))
                         c.rest_api_versions[IndexOf(c)] = *s;
                     }),
  };
  return t;
}

// Reports keys that do not apply to the client's kind.
void RejectKeysOfOtherKinds(Context& c, const Map& m, const Client& client) {
  auto reject = [&](const Keys& keys, std::string_view applies_to) {
    for (std::string_view k : keys) {
      if (auto kn = m.Key(k)) {
        c.Error(*kn, "key " + Q(k) + " applies only to " + std::string(applies_to) + " clients; " +
                         Q(client.name) + " is " + std::string(ClientKindName(client.kind)));
      }
    }
  };
  if (client.kind == ClientKind::kRest) {
    reject(KeysOf(ConnectionTable()), "websocket, json, reliable and mqtt");
    reject({"count"}, "websocket, json, reliable and mqtt");
  } else {
    reject(KeysOf(RestTable()), "rest");
  }
  if (!IsReliableKind(client.kind)) {
    reject(KeysOf(ReliableTable()), "reliable and reliable_protobuf");
  }
  if (!IsMqtt(client.kind)) reject(KeysOf(MqttClientTable()), "mqtt311 and mqtt5");
  if (client.kind == ClientKind::kMqtt311) reject(Mqtt5OnlyClientKeys(), "mqtt5");
}

void ReadClient(Context& c, const std::string& name, const Node& key, const Node& def) {
  Client client;
  client.name = name;
  client.pos = c.Pos(key);
  const uint32_t index = IndexOf(c);
  if (def.IsScalar()) {
    // Shorthand "pub: json".
    auto kind = c.Enum(def, "client kind", kClientKinds);
    if (kind) client.kind = *kind;
    c.AddClient(std::move(client), index, !kind);
    return;
  }
  Map m(c, def, "client " + Q(name), KeysOf(ClientTable()));
  if (!m.ok()) {
    c.AddClient(std::move(client), index, true);
    return;
  }
  std::optional<ClientKind> kind;
  if (auto v = m.Required(c, "kind")) kind = c.Enum(*v, "client kind", kClientKinds);
  if (kind) {
    client.kind = *kind;
    RejectKeysOfOtherKinds(c, m, client);
  }
  ReadFields(c, m, Without(ClientTable(), KeysOf(MqttClientTable())), client);
  if (IsMqtt(client.kind)) ReadMqttClientOptions(c, m, client);
  c.AddClient(std::move(client), index, !kind);
}

}  // namespace

// `table` with every field marked as applying to `kinds` (for the reference).
Table<Client> Applying(unsigned kinds, Table<Client> table) {
  for (Field<Client>& f : table) f.kinds = kinds;
  return table;
}

const Table<Client>& ClientTable() {
  static const Table<Client> t = [] {
    Table<Client> mqtt = Applying(kMqttKinds, MqttClientTable());
    for (Field<Client>& f : mqtt) {
      if (Contains(Mqtt5OnlyClientKeys(), f.key)) f.kinds = KindBit(ClientKind::kMqtt5);
    }
    Table<Client> all = Join(CommonTable(), Applying(kConnectionKinds, ConnectionTable()));
    all = Join(all, Applying(kReliableKinds, ReliableTable()));
    all = Join(all, Applying(KindBit(ClientKind::kRest), RestTable()));
    return Join(all, mqtt);
  }();
  return t;
}

void ReadClients(Context& c, const Node& n) {
  if (n.IsNull()) return;  // "clients: {}" written as "clients:"
  if (!n.IsMap()) {
    c.Error(n, "expected a mapping of client names to client definitions, got " + Describe(n));
    return;
  }
  std::set<std::string> seen;
  for (auto it = n.begin(); it != n.end(); ++it) {
    auto name = c.Str(it->first, "client name");
    if (!name || !seen.insert(*name).second) continue;  // duplicates were reported already
    if (!IsIdentifier(*name, true) || name->find('.') != std::string::npos) {
      c.Error(it->first, "invalid client name " + Q(*name) +
                             " (letters, digits, _ and -; starting with a letter)");
      continue;
    }
    if (*name == "all" || *name == "upstream" || *name == "service") {
      c.Error(it->first, "client name " + Q(*name) + " is reserved");
      continue;
    }
    ReadClient(c, *name, it->first, it->second);
  }
}

}  // namespace wpsim::conformance::shape
