#!/usr/bin/env python3
"""The real Python server SDK (Debian's python3-azure: azure.messaging.webpubsubservice) and the
Python `websockets` library (Debian's python3-websockets) against `wpsim serve` over http/ws,
unmodified: the server SDK is made from the printed connection string, its tokens let websockets
clients connect, and its REST calls (send, groups, users, permissions, close, existence checks)
are observed by those clients. Each flow prints "ok - <flow>" when all of its checks hold
(tests/e2e/compatibility.py turns them into rows of docs/compatibility.md).

Environment: WPSIM_BIN = the wpsim binary. Exit status 0 = pass."""
import asyncio
import json
import re
import sys
import time

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.messaging.webpubsubservice import WebPubSubServiceClient
import websockets
from wpsim_serve import start_serve

JSON_PROTOCOL = "json.webpubsub.azure.v1"


def check(cond, what):
    if not cond:
        raise AssertionError(what)


async def recv(ws, timeout=5):
    """The next data frame, decoded as JSON when it is text that parses."""
    frame = await asyncio.wait_for(ws.recv(), timeout)
    if isinstance(frame, str):
        try:
            return json.loads(frame)
        except ValueError:
            return frame
    return frame


async def nothing_arrives(ws, timeout=0.3):
    try:
        frame = await asyncio.wait_for(ws.recv(), timeout)
    except asyncio.TimeoutError:
        return True
    raise AssertionError("unexpected frame: %r" % (frame,))


async def connect(svc, protocol=JSON_PROTOCOL, **token_args):
    url = svc.get_client_access_token(**token_args)["url"]
    ws = await websockets.connect(url, subprotocols=[protocol] if protocol else None)
    if protocol:
        check(ws.subprotocol == protocol, "subprotocol negotiated")
        hello = await recv(ws)
        check(hello.get("type") == "system" and hello.get("event") == "connected", "connected: %r" % hello)
        return ws, hello["connectionId"]
    return ws, None


async def closed_by_service(ws, what):
    """Reads until the service closes the socket; the JSON protocol says why first, in a
    `disconnected` system message. Returns that message."""
    said = None
    try:
        while True:
            m = await recv(ws)
            if isinstance(m, dict) and m.get("event") == "disconnected":
                said = m
    except websockets.ConnectionClosed:
        pass
    except asyncio.TimeoutError:
        raise AssertionError("the connection stayed open after " + what)
    check(said is not None, "a disconnected message before the close after " + what)
    return said


def call(fn):
    """Runs a blocking server SDK call off the event loop."""
    return asyncio.get_running_loop().run_in_executor(None, fn)


async def flow_tokens_and_broadcast(svc):
    ws, _ = await connect(svc, user_id="alice")
    raw, _ = await connect(svc, protocol=None)
    await call(lambda: svc.send_to_all({"hello": "world"}))
    m = await recv(ws)
    check(m == {"type": "message", "from": "server", "dataType": "json", "data": {"hello": "world"}}, "json: %r" % m)
    check(await recv(raw) == {"hello": "world"}, "a plain WebSocket gets the raw JSON body")
    await call(lambda: svc.send_to_all("plain words", content_type="text/plain"))
    m = await recv(ws)
    check(m["dataType"] == "text" and m["data"] == "plain words", "text: %r" % m)
    check(await recv(raw) == "plain words", "a plain WebSocket gets the raw text")
    await ws.close()
    await raw.close()


async def flow_groups(svc):
    ws, cid = await connect(svc, user_id="bob")
    await call(lambda: svc.add_connection_to_group("py_room", cid))
    check(await call(lambda: svc.group_exists("py_room")), "group_exists after add_connection_to_group")
    await call(lambda: svc.send_to_group("py_room", "to the room", content_type="text/plain"))
    m = await recv(ws)
    check(m["from"] == "group" and m["group"] == "py_room" and m["data"] == "to the room", "group: %r" % m)
    await call(lambda: svc.remove_connection_from_group("py_room", cid))
    check(not await call(lambda: svc.group_exists("py_room")), "the group is gone with its last member")
    await call(lambda: svc.send_to_group("py_room", "after leave", content_type="text/plain"))
    await nothing_arrives(ws)
    await ws.close()


async def flow_users(svc):
    ws, _ = await connect(svc, user_id="carol")
    check(await call(lambda: svc.user_exists("carol")), "user_exists")
    await call(lambda: svc.add_user_to_group("py_users", "carol"))
    await call(lambda: svc.send_to_group("py_users", {"n": 1}))
    m = await recv(ws)
    check(m["group"] == "py_users" and m["data"] == {"n": 1}, "user's group: %r" % m)
    await call(lambda: svc.send_to_user("carol", "just you", content_type="text/plain"))
    m = await recv(ws)
    check(m["from"] == "server" and m["data"] == "just you", "send_to_user: %r" % m)
    await call(lambda: svc.close_user_connections("carol", reason="bye"))
    said = await closed_by_service(ws, "close_user_connections")
    check("bye" in said.get("message", ""), "the close reason is in the disconnected message: %r" % said)
    deadline = time.time() + 5
    while await call(lambda: svc.user_exists("carol")):
        check(time.time() < deadline, "user_exists false after close_user_connections")
        await asyncio.sleep(0.05)


async def flow_permissions(svc):
    ws, cid = await connect(svc, user_id="dave")
    await ws.send(json.dumps({"type": "sendToGroup", "group": "py_perm", "data": "x", "ackId": 1}))
    ack = await recv(ws)
    check(ack["type"] == "ack" and ack["success"] is False and ack["error"]["name"] == "Forbidden",
          "sendToGroup without the role is acked Forbidden: %r" % ack)
    await call(lambda: svc.grant_permission("sendToGroup", cid, target_name="py_perm"))
    check(await call(lambda: svc.has_permission("sendToGroup", cid, target_name="py_perm")), "has_permission")
    await ws.send(json.dumps({"type": "sendToGroup", "group": "py_perm", "data": "x", "ackId": 2}))
    ack = await recv(ws)
    check(ack["success"] is True and ack["ackId"] == 2, "granted sendToGroup is acked: %r" % ack)
    await call(lambda: svc.revoke_permission("sendToGroup", cid, target_name="py_perm"))
    check(not await call(lambda: svc.has_permission("sendToGroup", cid, target_name="py_perm")),
          "has_permission false after revoke_permission")
    await call(lambda: svc.close_connection(cid, reason="done"))
    said = await closed_by_service(ws, "close_connection")
    check("done" in said.get("message", ""), "the close reason is in the disconnected message: %r" % said)
    check(not await call(lambda: svc.connection_exists(cid)), "connection_exists false after close_connection")


async def flow_refusals(svc, connection_string):
    check(not await call(lambda: svc.connection_exists("nosuchconnection")), "connection_exists of an unknown id")
    wrong = re.sub(r"AccessKey=[^;]+", "AccessKey=" + "W" * 44, connection_string)
    bad = WebPubSubServiceClient.from_connection_string(wrong, hub="pyhub")
    try:
        await call(lambda: bad.send_to_all("x", content_type="text/plain"))
        raise AssertionError("a wrong access key was accepted")
    except ClientAuthenticationError as e:
        check(e.status_code == 401, "401 for a wrong access key")
    try:
        await call(lambda: svc.send_to_group("g" * 1025, "x", content_type="text/plain"))
        raise AssertionError("an invalid group name was accepted")
    except HttpResponseError as e:
        check(e.status_code == 400, "400 for a group name over 1,024 characters: %r" % e.status_code)
    forged = bad.get_client_access_token(user_id="eve")["url"]
    try:
        await websockets.connect(forged, subprotocols=[JSON_PROTOCOL])
        raise AssertionError("a token signed with a wrong key was accepted")
    except websockets.InvalidStatusCode as e:
        check(e.status_code == 401, "a websockets client with a forged token gets 401")


FLOWS = [
    ("server SDK tokens let websockets clients connect; send_to_all reaches JSON and plain clients",
     flow_tokens_and_broadcast),
    ("add/remove_connection_to_group, group_exists and send_to_group", flow_groups),
    ("user_exists, add_user_to_group, send_to_user and close_user_connections", flow_users),
    ("grant/has/revoke_permission change what a client may send; close_connection", flow_permissions),
]


async def main_async(connection_string):
    svc = WebPubSubServiceClient.from_connection_string(connection_string, hub="pyhub")
    for name, flow in FLOWS:
        await flow(svc)
        print("ok -", name, flush=True)
    await flow_refusals(svc, connection_string)
    print("ok - a wrong access key gets 401, a 1,025-character group name 400, a forged client token 401", flush=True)


def main():
    proc, connection_string = start_serve()
    try:
        asyncio.run(main_async(connection_string))
    finally:
        proc.terminate()
        proc.wait(5)
    print("python sdk e2e: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
