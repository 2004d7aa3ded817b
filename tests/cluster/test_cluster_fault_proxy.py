"""FaultProxy against a local echo server: each fault is measured on real sockets."""

from __future__ import annotations

import asyncio
import time

import pytest

from alys_test_framework.events import EventLog
from alys_test_framework.targets.cluster import FaultProxy, Partition


async def _echo_server() -> tuple[asyncio.Server, int]:
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        except ConnectionError:
            pass
        finally:
            w.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    return srv, srv.sockets[0].getsockname()[1]


async def _roundtrip(port: int, payload: bytes, limit: float = 5.0) -> tuple[bytes, float]:
    r, w = await asyncio.open_connection("127.0.0.1", port)
    t0 = time.perf_counter()
    w.write(payload)
    await w.drain()
    got = b""
    try:
        while len(got) < len(payload):
            chunk = await asyncio.wait_for(r.read(65536), limit)
            if not chunk:
                break
            got += chunk
    finally:
        w.close()
    return got, time.perf_counter() - t0


async def _closed(r: asyncio.StreamReader) -> bool:
    try:
        return await asyncio.wait_for(r.read(10), 2) == b""
    except ConnectionResetError:
        return True


def run(coro):  # noqa: ANN001, ANN201
    return asyncio.run(coro)


def test_proxy_forwards_and_latency_applies_both_directions() -> None:
    async def main() -> None:
        srv, port = await _echo_server()
        events = EventLog()
        async with FaultProxy(events, seed=1) as proxy:
            pport = await proxy.add_link(0, 1, ("127.0.0.1", port))
            got, base = await _roundtrip(pport, b"hello")
            assert got == b"hello"
            async with proxy.fault(proxy.symmetric(0, 1), "latency", latency_ms=100):
                got, slow = await _roundtrip(pport, b"hello")
            assert got == b"hello"
            assert slow >= 0.2 - 0.01, slow  # 100 ms each way
            assert slow > base
            kinds = [(e.type, e.metadata["kind"]) for e in events.events]
            assert kinds == [("fault_started", "latency"), ("fault_ended", "latency")]
            end = events.events[-1].metadata
            assert end["ended_at"] >= end["started_at"] and end["duration_s"] >= 0.2
        srv.close()

    run(main())


def test_partition_drop_holds_bytes_until_heal_and_close_refuses() -> None:
    async def main() -> None:
        srv, port = await _echo_server()
        async with FaultProxy(seed=2) as proxy:
            pport = await proxy.add_link(0, 1, ("127.0.0.1", port))
            rec = proxy.partition(Partition.isolate(2, 0), mode="drop")
            r, w = await asyncio.open_connection("127.0.0.1", pport)
            w.write(b"held")
            await w.drain()
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(r.read(10), 0.3)
            proxy.clear(rec)
            assert await asyncio.wait_for(r.readexactly(4), 2) == b"held"
            # close mode: the live connection is reset and new ones are refused
            proxy.partition(Partition.isolate(2, 1), mode="close")
            assert await _closed(r)
            w.close()
            try:
                got, _ = await _roundtrip(pport, b"x", limit=2)
            except ConnectionResetError:
                got = b""
            assert got == b""
            assert proxy.stats_for(0, 1).refused >= 1
            proxy.clear_all()
            got, _ = await _roundtrip(pport, b"back")
            assert got == b"back"
            assert all(not rec.active for rec in proxy.history)
        srv.close()

    run(main())


def test_corruption_duplication_and_bandwidth_are_seeded_and_measured() -> None:
    async def main() -> None:
        srv, port = await _echo_server()
        async with FaultProxy(seed=3) as proxy:
            pport = await proxy.add_link(0, 1, ("127.0.0.1", port))
            payload = bytes(range(256)) * 4
            async with proxy.fault([(0, 1)], "corrupt", corrupt=1.0):
                got, _ = await _roundtrip(pport, payload)
            assert len(got) == len(payload) and got != payload
            assert proxy.stats_for(0, 1).corrupted >= 1
            async with proxy.fault([(1, 0)], "duplicate", duplicate=1.0):
                r, w = await asyncio.open_connection("127.0.0.1", pport)
                w.write(b"dup!")
                await w.drain()
                got = await asyncio.wait_for(r.readexactly(8), 2)
                w.close()
            assert got == b"dup!dup!"
            async with proxy.fault(proxy.symmetric(0, 1), "bandwidth", bandwidth_bps=100_000):
                got, took = await _roundtrip(pport, b"z" * 50_000, limit=5)
            assert len(got) == 50_000
            assert took >= 0.4, took  # 50 kB at 100 kB/s, twice (there and back), pipelined
        srv.close()

    run(main())


def test_partition_shapes() -> None:
    h = Partition.halves(4)
    assert not h.allows(0, 2) and h.allows(0, 1) and h.allows(2, 3)
    iso = Partition.isolate(4, 3)
    assert all(not iso.allows(3, i) for i in range(3)) and iso.allows(0, 1)
    mm = Partition.majority_minority(5)
    assert mm.groups == ((0, 1), (2, 3, 4))
    ring = Partition.ring(5)
    assert ring.allows(0, 1) and ring.allows(0, 4) and not ring.allows(0, 2)
    br = Partition.bridge(5)
    assert br.allows(0, 2) and br.allows(2, 4) and not br.allows(0, 4) and not br.allows(1, 3)
    assert (0, 2) in Partition.halves(4).directed_pairs() and (2, 0) in h.directed_pairs()


def test_rewriter_is_bound_per_connection_and_recorded() -> None:
    class Upper:
        def feed(self, data: bytes) -> bytes:
            return data.upper()

    async def main() -> None:
        srv, port = await _echo_server()
        events = EventLog()
        async with FaultProxy(events, seed=4) as proxy:
            pport = await proxy.add_link(0, 1, ("127.0.0.1", port))
            async with proxy.fault([(1, 0)], "byzantine", rewriter=Upper):
                got, _ = await _roundtrip(pport, b"forge me")
            assert got == b"FORGE ME" and len(proxy.rewriters) == 1
        assert events.events[0].metadata["params"] == {"rewriter": "Upper"}
        srv.close()

    run(main())


def test_loss_is_a_retransmission_delay_not_a_gap() -> None:
    async def main() -> None:
        srv, port = await _echo_server()
        async with FaultProxy(seed=5) as proxy:
            pport = await proxy.add_link(0, 1, ("127.0.0.1", port))
            async with proxy.fault([(0, 1)], "loss", loss=1.0, loss_rto_ms=150):
                got, took = await _roundtrip(pport, b"intact")
            assert got == b"intact" and took >= 0.15
            assert proxy.stats_for(0, 1).delayed_by_loss >= 1
        srv.close()

    run(main())
