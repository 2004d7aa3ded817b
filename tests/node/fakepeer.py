"""A misbehaving peer for integration tests: completes a real handshake (so the node treats it as
a sync source), then answers GetBlocks with garbage, forged blocks, or silence."""

from __future__ import annotations

import asyncio
import os
import threading

from alys_node.chain.block import Block
from alys_node.chain.spec import ChainSpec
from alys_node.p2p import messages as m
from alys_node.p2p.protocol import HandshakeComplete, MessageReceived, PeerProtocol


class FakePeer:
    def __init__(self, spec: ChainSpec, blocks: list[Block], mode: str) -> None:
        assert mode in ("garbage", "forged", "stall")
        self.spec = spec
        self.blocks = {b.height: b for b in blocks}
        self.head = blocks[-1]
        self.mode = mode
        self.port = 0
        self.requests = 0
        self.handshakes = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._stop: asyncio.Event | None = None

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> FakePeer:
        self._thread.start()
        assert self._ready.wait(10), "fake peer did not start"
        return self

    def __exit__(self, *exc) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._conn, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()

    async def _conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hello = m.Hello(
            m.PROTOCOL_VERSION, self.spec.chain_id, self.spec.genesis().hash, self.head.height,
            self.head.hash, self.port, os.urandom(16),
        )  # fmt: skip
        proto = PeerProtocol(hello)
        try:
            writer.write(proto.data_to_send())
            while data := await reader.read(65536):
                for ev in proto.receive_data(data):
                    if isinstance(ev, HandshakeComplete):
                        self.handshakes += 1
                    if isinstance(ev, MessageReceived) and isinstance(ev.msg, m.GetBlocks):
                        self.requests += 1
                        if self.mode == "garbage":
                            writer.write(b"\xff\xff\xff\xff garbage that is not a frame")
                        elif self.mode == "forged":
                            r = ev.msg
                            out = [
                                self.blocks[h].encode()
                                for h in range(r.start, r.start + r.count)
                                if h in self.blocks
                            ]
                            proto.send(m.Blocks(r.req_id, tuple(out)))
                writer.write(proto.data_to_send())
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
