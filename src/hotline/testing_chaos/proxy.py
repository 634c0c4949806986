"""A TCP proxy for one federation direction: cut, delay, drop answers, heal."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any


class _Conn:
    """One proxied connection: its two writers and who spoke last (for drop mode)."""

    def __init__(self, client: asyncio.StreamWriter, server: asyncio.StreamWriter) -> None:
        self.client = client
        self.server = server
        self.client_turns = 0
        self.last: str = ""
        self.closed = False

    def abort(self) -> None:
        """Close both sides at once (a reset, as a cable pulled mid-answer)."""
        if not self.closed:
            self.closed = True
            for writer in (self.client, self.server):
                writer.transport.abort()


class LinkProxy:
    """A TCP proxy for one federation direction, on its own asyncio loop in a thread.

    Modes: open (bytes pass, each held ``delay_s``), ``cut`` (every connection closed and
    new ones closed as they arrive), ``drop`` (requests pass, but the connection is reset
    when the server's answer begins: the server did the work, the client never hears).

    With TLS 1.3 and no session tickets (the node's listener sends none) the client speaks
    twice before the server answers a request: its hello, then its certificate, finished
    and request; the server's second turn is the first that can be an answer. So ``drop``
    resets a connection when the server speaks after the client's second turn.
    """

    def __init__(self, listen_port: int, target_port: int, *, handshake_turns: int = 2) -> None:
        self.listen_port = listen_port
        self.target_port = target_port
        self.handshake_turns = handshake_turns
        self.mode = "open"
        self.delay_s = 0.0
        self.connections = 0
        self.dropped_answers = 0
        self.refused = 0
        self._conns: set[_Conn] = set()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> LinkProxy:
        self._thread.start()
        self._run(self._listen())
        return self

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.listen_port)

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    def cut(self) -> None:
        self._run(self._set("cut", 0.0))

    def drop_answers(self) -> None:
        self._run(self._set("drop", 0.0))

    def delay(self, milliseconds: int) -> None:
        self._run(self._set("open", milliseconds / 1000))

    def heal(self) -> None:
        self._run(self._set("open", 0.0))

    async def _set(self, mode: str, delay_s: float) -> None:
        self.mode, self.delay_s = mode, delay_s
        if mode == "cut":
            for conn in list(self._conns):
                conn.abort()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._run(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._conns):
            conn.abort()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.mode == "cut":
            self.refused += 1
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        conn = _Conn(writer, up_writer)
        self._conns.add(conn)
        try:
            await asyncio.gather(
                self._pump(reader, up_writer, conn, from_client=True),
                self._pump(up_reader, writer, conn, from_client=False),
            )
        finally:
            conn.abort()
            self._conns.discard(conn)

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        conn: _Conn,
        *,
        from_client: bool,
    ) -> None:
        """Move bytes one way, each chunk held until its due time (order kept)."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if conn.closed:
                    return
                sink.write(data)
                await sink.drain()
            conn.abort()  # one side ended: end the other (HTTP needs no half-close here)

        writer_task = asyncio.create_task(deliver())
        try:
            while not conn.closed:
                data = await source.read(65536)
                if not data or self.mode == "cut":
                    break
                if from_client:
                    if conn.last != "client":
                        conn.client_turns += 1
                    conn.last = "client"
                else:
                    conn.last = "server"
                    if self.mode == "drop" and conn.client_turns >= self.handshake_turns:
                        self.dropped_answers += 1
                        conn.abort()
                        break
                queue.put_nowait((loop.time() + self.delay_s, data))
        except OSError:
            conn.abort()
        finally:
            queue.put_nowait((0.0, b""))
            with contextlib.suppress(OSError):
                await writer_task
