"""One TCP connection: a PeerProtocol plus the asyncio stream it is driven by (thin adapter)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from alys_node.p2p.admission import ip_of
from alys_node.p2p.protocol import PeerProtocol


@dataclass(eq=False)
class Conn:
    proto: PeerProtocol
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    inbound: bool
    sock_addr: str
    dialed_addr: str | None = None
    id: str = ""  # remote node id (hex) once admitted as a peer
    addr: str = ""  # advertised host:listen_port after the handshake
    node_id: bytes | None = None  # from a valid Hello, admitted or not: who to blame
    head: int = 0
    last_pong: float = 0.0
    opened: float = field(default_factory=time.monotonic)
    task: asyncio.Task | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        """Reputation/ban key: the advertised address when known, else the socket address."""
        return self.addr or self.sock_addr

    @property
    def ip(self) -> str:
        return ip_of(self.sock_addr)

    @property
    def ready(self) -> bool:
        return bool(self.id)

    async def flush(self, metrics: Any = None) -> None:
        data = self.proto.data_to_send()
        if data and not self.writer.is_closing():
            self.writer.write(data)
            if metrics is not None:
                metrics.bytes_out.inc(len(data))
            await self.writer.drain()

    def abort(self) -> None:
        try:
            self.writer.close()
        except Exception:
            pass
