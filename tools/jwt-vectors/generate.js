// Generates tests/data/jwt/sdk_vectors.json from the real @azure/web-pubsub server SDK.
//
// Why: wpsim's C++ JWT and connection-string code must accept exactly what the official SDK
// produces. The C++ tests read the JSON written here; Node is needed only to regenerate it:
//   cd tools/jwt-vectors && npm ci && node generate.js
//
// Determinism: jsonwebtoken stamps `iat` from Date.now(), so Date.now is pinned to a fixed
// instant; re-running the script produces byte-identical output. REST calls never reach a
// network: a custom httpClient (a documented client option of the Azure core pipeline) records
// each outgoing request's URL and Authorization header and answers 202 locally.
"use strict";

const fs = require("fs");
const path = require("path");
const { WebPubSubServiceClient } = require("@azure/web-pubsub");
const { createHttpHeaders } = require("@azure/core-rest-pipeline");

const kFixedNowSeconds = 1767225600; // 2026-01-01T00:00:00Z
Date.now = () => kFixedNowSeconds * 1000;

const kKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH";
const kAzure = `Endpoint=https://wpsim-vectors.webpubsub.azure.com;AccessKey=${kKey};Version=1.0;`;

function decodeSegment(segment) {
  return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
}

// Each case: a connection string, a hub and getClientAccessToken options.
const tokenCases = [
  { name: "anonymous_default_options", cs: kAzure, hub: "chat", options: {} },
  { name: "user_id", cs: kAzure, hub: "chat", options: { userId: "user1" } },
  {
    name: "user_roles",
    cs: kAzure,
    hub: "chat",
    options: {
      userId: "user1",
      roles: ["webpubsub.sendToGroup", "webpubsub.joinLeaveGroup.group1"],
    },
  },
  {
    name: "groups",
    cs: kAzure,
    hub: "chat",
    options: { userId: "user2", groups: ["group1", "group two", "a/b\"c"] },
  },
  { name: "empty_roles_and_groups", cs: kAzure, hub: "chat", options: { roles: [], groups: [] } },
  {
    name: "expiration_5_minutes",
    cs: kAzure,
    hub: "chat",
    options: { userId: "user1", expirationTimeInMinutes: 5 },
  },
  {
    name: "mqtt_client_protocol",
    cs: kAzure,
    hub: "chat",
    options: { userId: "mqttuser", roles: ["webpubsub.joinLeaveGroup"], clientProtocol: "mqtt" },
  },
  {
    name: "socketio_client_protocol",
    cs: kAzure,
    hub: "chat",
    options: { userId: "sio", clientProtocol: "socketio" },
  },
  {
    name: "unicode_user_id",
    cs: kAzure,
    hub: "Chat_1",
    options: { userId: "ユーザー😀", groups: ["grüppe"] },
  },
  {
    name: "local_http_endpoint_with_port",
    cs: `endpoint=http://localhost;Port=8080;accesskey=${kKey};Version=1.0;`,
    hub: "chat",
    options: { userId: "user1" },
  },
  {
    name: "endpoint_without_scheme",
    cs: `Endpoint=wpsim-vectors.webpubsub.azure.com;AccessKey=${kKey};`,
    hub: "chat",
    options: {},
  },
  {
    name: "default_https_port_dropped",
    cs: `Endpoint=https://wpsim-vectors.webpubsub.azure.com/;AccessKey=${kKey};Port=443;Version=1.0;`,
    hub: "chat",
    options: {},
  },
  {
    name: "non_default_port_and_upper_case_host",
    cs: `Endpoint=https://WPSIM-Vectors.webpubsub.azure.com;AccessKey=${kKey};Port=8443;`,
    hub: "chat",
    options: {},
  },
  {
    name: "endpoint_with_path_prefix",
    cs: `Endpoint=https://proxy.example.com/wps/;AccessKey=${kKey};Version=1.0;`,
    hub: "chat",
    options: { userId: "p" },
  },
  {
    // The SDK tests startsWith("http") case-sensitively, so an upper-case scheme gets a second
    // "https://" prefix and a mangled URL. wpsim deliberately does not copy this; the C++ test
    // checks that the vector still shows the quirk and that wpsim parses the scheme instead.
    name: "quirk_upper_case_scheme",
    quirk: true,
    cs: `Endpoint=HTTPS://wpsim-vectors.webpubsub.azure.com;AccessKey=${kKey};`,
    hub: "chat",
    options: {},
  },
  {
    name: "different_key",
    cs: "Endpoint=http://127.0.0.1:8080;AccessKey=short-key=with=equals;Version=1.0;",
    hub: "hub",
    options: { userId: "u" },
  },
];

function makeRecordingClient(records, status) {
  return {
    async sendRequest(request) {
      records.push({
        method: request.method,
        url: request.url,
        authorization: request.headers.get("authorization"),
      });
      return { status, headers: createHttpHeaders(), request, bodyAsText: "" };
    },
  };
}

// Each REST case: a connection string, a hub and a function issuing one call.
const restCases = [
  {
    name: "send_to_all_text",
    cs: kAzure,
    hub: "chat",
    call: (c) => c.sendToAll("hi", { contentType: "text/plain" }),
  },
  {
    name: "group_add_connection",
    cs: kAzure,
    hub: "chat",
    status: 200,
    call: (c) => c.group("group1").addConnection("conn1"),
  },
  {
    name: "send_to_user_local_port",
    cs: `Endpoint=http://localhost;Port=8080;AccessKey=${kKey};Version=1.0;`,
    hub: "chat",
    insecure: true,
    call: (c) => c.sendToUser("user 1", { hello: "world" }),
  },
];

async function main() {
  const out = {
    generator: "tools/jwt-vectors/generate.js",
    sdk: `@azure/web-pubsub@${require("@azure/web-pubsub/package.json").version}`,
    now_unix_seconds: kFixedNowSeconds,
    client_tokens: [],
    rest_tokens: [],
  };
  for (const c of tokenCases) {
    const client = new WebPubSubServiceClient(c.cs, c.hub);
    const result = await client.getClientAccessToken(c.options);
    const [h, p] = result.token.split(".");
    out.client_tokens.push({
      name: c.name,
      quirk: c.quirk === true,
      connection_string: c.cs,
      hub: c.hub,
      options: c.options,
      sdk_endpoint: client.endpoint,
      token: result.token,
      base_url: result.baseUrl,
      url: result.url,
      header: decodeSegment(h),
      payload: decodeSegment(p),
    });
  }
  for (const c of restCases) {
    const records = [];
    const client = new WebPubSubServiceClient(c.cs, c.hub, {
      httpClient: makeRecordingClient(records, c.status || 202),
      allowInsecureConnection: c.insecure === true,
      retryOptions: { maxRetries: 0 },
    });
    await c.call(client);
    if (records.length !== 1) throw new Error(`${c.name}: expected one request`);
    const token = records[0].authorization.replace(/^Bearer /, "");
    const [h, p] = token.split(".");
    out.rest_tokens.push({
      name: c.name,
      connection_string: c.cs,
      hub: c.hub,
      method: records[0].method,
      request_url: records[0].url,
      token,
      header: decodeSegment(h),
      payload: decodeSegment(p),
    });
  }
  const target = path.join(__dirname, "..", "..", "tests", "data", "jwt", "sdk_vectors.json");
  fs.writeFileSync(target, JSON.stringify(out, null, 2) + "\n");
  console.log(`wrote ${out.client_tokens.length} client and ${out.rest_tokens.length} REST vectors`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
