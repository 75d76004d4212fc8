"""The bench's hand-written webhook client (bench.postgres.KeptAlive) against a tiny HTTP/1.1
server on a local port: requests arrive whole, answers are read to their end, and a connection
the server closes is replaced, the request sent once more, never more."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from bench.postgres import KeptAlive

SECRET = {"X-Telegram-Bot-Api-Secret-Token": "bench-secret_0123"}
# An answer body that looks like the end of a head and a second answer: read by its
# Content-Length, it never reaches the next request's answer.
TRAP = b'{"ok": true, "note": "\r\n\r\nHTTP/1.1 500 Wrong\r\n\r\n"}'


@dataclass
class Received:
    connection: int
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    """Answers each POST with the status its JSON body asks for (`{"status": 403}`; 200).

    `drop`: numbers (1-based, over all connections) of requests read and then left unanswered,
    the connection closed; `close_after`: requests answered, then the connection closed without
    a word (as an idle timeout does); `partial`: answered with half a status line, then closed;
    `say_close`: answered with `Connection: close`, then closed."""

    drop: set[int] = field(default_factory=set)
    close_after: set[int] = field(default_factory=set)
    partial: set[int] = field(default_factory=set)
    say_close: set[int] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        connection = self.connections
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                request_line, *lines = head.decode("latin-1").split("\r\n")
                method, path, _version = request_line.split()
                headers = {name.strip().lower(): value.strip() for name, _, value in
                           (line.partition(":") for line in lines if line)}
                body = await reader.readexactly(int(headers["content-length"]))
                self.received.append(Received(connection, method, path, headers, body))
                number = len(self.received)
                if number in self.drop:
                    return
                if number in self.partial:
                    writer.write(b"HTTP/1.1 2")
                    await writer.drain()
                    return
                status = json.loads(body).get("status", 200)
                extra = "Connection: close\r\n" if number in self.say_close else ""
                writer.write(f"HTTP/1.1 {status} Whatever\r\nContent-Length: {len(TRAP)}\r\n"
                             f"{extra}\r\n".encode() + TRAP)
                await writer.drain()
                if number in self.close_after or number in self.say_close:
                    return
        finally:
            writer.close()

    def bodies(self) -> list[bytes]:
        return [request.body for request in self.received]


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    served = Server()
    listening = await asyncio.start_server(served.handle, "127.0.0.1", 0)
    served.port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield served


def body(number: int, **fields: object) -> bytes:
    return json.dumps({"update_id": number, "text": "Ærlig talt – ŋ", **fields},
                      ensure_ascii=False).encode()


async def test_requests_arrive_whole_on_one_connection_and_answers_are_read(
        server: Server) -> None:
    client = KeptAlive(server.port)
    sent = [body(1), body(2, status=403), body(3), body(4, status=503), body(5)]
    statuses = [await client.post("/telegram", one, SECRET) for one in sent]
    await client.close()

    assert statuses == [200, 403, 200, 503, 200]
    assert server.connections == 1
    assert client.reconnects == 0
    assert server.bodies() == sent
    for request in server.received:
        assert (request.method, request.path) == ("POST", "/telegram")
        assert request.headers["content-type"] == "application/json"
        assert request.headers["x-telegram-bot-api-secret-token"] == "bench-secret_0123"
        assert request.headers["host"] == f"127.0.0.1:{server.port}"


@pytest.mark.parametrize("pause", [0, 0.05], ids=["at-once", "after-a-pause"])
async def test_a_connection_closed_between_answers_is_replaced(server: Server,
                                                                pause: float) -> None:
    """As a server's idle timeout closes a kept-alive connection: the next request goes out on a
    new one (at once, or after the client already saw the close), and arrives once."""
    server.close_after = {2}
    client = KeptAlive(server.port)
    sent = [body(number) for number in range(1, 6)]
    statuses = []
    for one in sent:
        statuses.append(await client.post("/telegram", one, SECRET))
        await asyncio.sleep(pause)
    await client.close()

    assert statuses == [200] * 5
    assert server.connections == 2
    assert [request.body for request in server.received if request.connection == 2] == sent[2:]
    assert server.bodies() == sent


async def test_a_request_read_but_unanswered_is_sent_once_more(server: Server) -> None:
    server.drop = {3}
    client = KeptAlive(server.port)
    sent = [body(number) for number in range(1, 6)]
    statuses = [await client.post("/telegram", one, SECRET) for one in sent]
    await client.close()

    assert statuses == [200] * 5
    assert client.reconnects == 1
    assert server.bodies() == [*sent[:3], sent[2], *sent[3:]]
    assert [request.connection for request in server.received] == [1, 1, 1, 2, 2, 2]


async def test_a_second_close_in_a_row_is_an_error_not_a_loop(server: Server) -> None:
    server.drop = {2, 3}
    client = KeptAlive(server.port)
    assert await client.post("/telegram", body(1), SECRET) == 200
    with pytest.raises(ConnectionError):
        await client.post("/telegram", body(2), SECRET)
    await client.close()
    assert server.bodies() == [body(1), body(2), body(2)]


async def test_a_new_connection_closed_unanswered_is_an_error(server: Server) -> None:
    server.drop = {1}
    client = KeptAlive(server.port)
    with pytest.raises(ConnectionError):
        await client.post("/telegram", body(1), SECRET)
    await client.close()
    assert server.bodies() == [body(1)]


async def test_a_half_answer_is_not_sent_again(server: Server) -> None:
    """Some of the answer came: the server may have handled the request; no guessing."""
    server.partial = {2}
    client = KeptAlive(server.port)
    assert await client.post("/telegram", body(1), SECRET) == 200
    with pytest.raises(ConnectionError, match="middle of its answer"):
        await client.post("/telegram", body(2), SECRET)
    await client.close()
    assert server.bodies() == [body(1), body(2)]


async def test_connection_close_is_obeyed_without_a_resend(server: Server) -> None:
    server.say_close = {1}
    client = KeptAlive(server.port)
    assert [await client.post("/telegram", body(n), SECRET) for n in (1, 2)] == [200, 200]
    await client.close()
    assert client.reconnects == 0
    assert server.connections == 2
    assert server.bodies() == [body(1), body(2)]
