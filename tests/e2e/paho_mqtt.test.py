#!/usr/bin/env python3
"""Debian's python3-paho-mqtt (1.6.1) against `wpsim serve` over ws://, as in seed 000's
Python tab: transport="websockets", ws_set_options(path=...), MQTTv5 (clean start, 30 s
session expiry) and MQTTv311; each subscribes topic1 with QoS 1, publishes "Hello World!"
and must receive it. The MQTTv311 run passes the token in an Authorization header instead
of the query. Also: a 3.1.1 keep-alive above 180 s is refused with return code 2 (paho
cannot send keep-alive 0 over websockets: it uses the keep-alive as the handshake socket
timeout, and a timeout of 0 makes the socket non-blocking).

Environment: WPSIM_BIN = the wpsim binary. Exit status 0 = pass."""
import base64
import hashlib
import hmac
import json
import re
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from wpsim_serve import start_serve

HUB = "quickstart"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(connection_string, roles):
    endpoint = re.search(r"Endpoint=([^;]+)", connection_string).group(1).rstrip("/")
    key = re.search(r"AccessKey=([^;]+)", connection_string).group(1)
    port = re.search(r"Port=(\d+)", connection_string)
    if port and not re.search(r":\d+$", endpoint):
        endpoint += ":" + port.group(1)
    now = int(time.time())
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({
        "aud": endpoint + "/clients/mqtt/hubs/" + HUB, "iat": now, "exp": now + 3600,
        "role": roles}).encode())
    unsigned = header + "." + payload
    sig = b64url(hmac.new(key.encode(), unsigned.encode(), hashlib.sha256).digest())
    return unsigned + "." + sig


class Run:
    """One paho client: connect, subscribe, publish, wait for the message."""

    def __init__(self, port, tok, protocol, client_id, in_header, keepalive=60):
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.received = []
        self.got = threading.Event()
        self.connack = None
        self.granted = None
        kwargs = {"client_id": client_id, "transport": "websockets", "protocol": protocol}
        if protocol == mqtt.MQTTv311:
            kwargs["clean_session"] = True
        self.client = mqtt.Client(**kwargs)
        path = "/clients/mqtt/hubs/" + HUB
        if in_header:
            self.client.ws_set_options(path=path, headers={"Authorization": "Bearer " + tok})
        else:
            self.client.ws_set_options(path=path + "?access_token=" + tok)
        self.client.on_connect = self.on_connect
        self.client.on_subscribe = self.on_subscribe
        self.client.on_message = self.on_message
        self.client.on_disconnect = lambda *a: self.connected.set()
        if protocol == mqtt.MQTTv5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 30
            self.client.connect("127.0.0.1", port, keepalive=keepalive, clean_start=True,
                                properties=props)
        else:
            self.client.connect("127.0.0.1", port, keepalive=keepalive)
        self.client.loop_start()

    def on_connect(self, client, userdata, flags, rc, properties=None):
        self.connack = rc
        self.connected.set()

    def on_subscribe(self, client, userdata, mid, granted, properties=None):
        self.granted = granted
        self.subscribed.set()

    def on_message(self, client, userdata, msg):
        self.received.append((msg.topic, msg.payload.decode(), msg.qos))
        self.got.set()

    def stop(self):
        self.client.disconnect()
        self.client.loop_stop()


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok -", what)


def quickstart(port, connection_string, protocol, name, in_header):
    tok = token(connection_string, ["webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"])
    r = Run(port, tok, protocol, "paho" + name, in_header)
    check(r.connected.wait(5), name + ": connected")
    check(int(getattr(r.connack, "value", r.connack)) == 0, name + ": CONNACK success")
    r.client.subscribe("topic1", qos=1)
    check(r.subscribed.wait(5), name + ": SUBACK")
    granted = r.granted[0]
    check(int(getattr(granted, "value", granted)) == 1, name + ": granted QoS 1")
    r.client.publish("topic1", "Hello World!", qos=1)
    check(r.got.wait(5), name + ": message received")
    check(r.received[0] == ("topic1", "Hello World!", 1), name + ": topic1 'Hello World!' QoS 1")
    r.stop()


def keepalive_above_180_refused(port, connection_string):
    tok = token(connection_string, [])
    r = Run(port, tok, mqtt.MQTTv311, "pahoslow", False, keepalive=181)
    check(r.connected.wait(5), "3.1.1 keep-alive 181: answered")
    check(r.connack is not None and int(r.connack) == 2, "3.1.1 keep-alive 181: CONNACK return code 2")
    r.client.loop_stop()


def main():
    proc, connection_string = start_serve()
    try:
        port = int(re.search(r"Port=(\d+)", connection_string).group(1)) if "Port=" in connection_string \
            else int(re.search(r":(\d+)", connection_string.split("Endpoint=")[1]).group(1))
        quickstart(port, connection_string, mqtt.MQTTv5, "v5", False)
        quickstart(port, connection_string, mqtt.MQTTv311, "v311", True)
        keepalive_above_180_refused(port, connection_string)
    finally:
        proc.terminate()
        proc.wait(5)
    print("paho e2e: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
