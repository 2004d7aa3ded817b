"""StorageActor: the only owner of the SQLite store; writes run in a worker thread so an fsync
never freezes the event loop, and the mailbox serialises every access."""

from __future__ import annotations

import asyncio

from alys_actors import Actor, handler
from alys_node.actors import messages as msg
from alys_node.chain.block import Block
from alys_node.store.blockstore import BlockStore, Checkpoint


class StorageActor(Actor):
    def __init__(self, store: BlockStore) -> None:
        self.store = store

    @handler(msg.Append)
    async def on_append(self, m: msg.Append) -> int:
        await asyncio.to_thread(self.store.append, m.blocks)
        return self.store.head_height

    @handler(msg.GetBlock)
    def on_get(self, m: msg.GetBlock) -> tuple[Block, float] | None:
        if m.height is not None:
            return self.store.get_by_height(m.height)
        return self.store.get_by_hash(m.hash or b"")

    @handler(msg.GetRange)
    def on_range(self, m: msg.GetRange) -> list[bytes]:
        return self.store.range_encoded(m.start, m.count, m.max_bytes)

    @handler(msg.GetHeaderRange)
    def on_headers(self, m: msg.GetHeaderRange) -> list[bytes]:
        return self.store.headers(m.start, m.count)

    @handler(msg.GetCheckpoints)
    def on_checkpoints(self, m: msg.GetCheckpoints) -> list[Checkpoint]:
        return self.store.checkpoints()

    @handler(msg.Replace)
    async def on_replace(self, m: msg.Replace) -> int:
        await asyncio.to_thread(self.store.replace_above, m.ancestor, m.blocks)
        return self.store.head_height

    @handler(msg.GetHashes)
    def on_hashes(self, m: msg.GetHashes) -> dict[int, bytes]:
        return self.store.hashes(m.start, m.end)
