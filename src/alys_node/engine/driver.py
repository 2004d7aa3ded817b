"""The consensus side of block production: forkchoiceUpdated -> getPayload -> newPayload.

Used by EngineActor in the node and by the Lighthouse harness, so both speak to the execution
layer exactly as a consensus client does (version chosen by the fork of the timestamp). Every
exchange can be observed, which is how the harness validates the whole conversation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .client import EngineClient, EngineRpcError
from .state import ForkSchedule

ZERO32 = "0x" + "00" * 32
VERSION = {"bellatrix": 1, "capella": 2, "deneb": 3}
Observer = Callable[[str, list[Any], dict[str, Any]], None]


@dataclass
class Produced:
    payload: dict[str, Any]  # engine JSON ExecutionPayloadV1..V3
    fork: str
    status: dict[str, Any]  # newPayload PayloadStatus
    parent_beacon_block_root: str | None

    @property
    def block_hash(self) -> str:
        return self.payload["blockHash"]


class EngineDriver:
    def __init__(
        self, client: EngineClient, schedule: ForkSchedule, observer: Observer | None = None
    ) -> None:
        self.client = client
        self.schedule = schedule
        self.observer = observer

    async def call(self, method: str, params: list[Any]) -> Any:
        response = await self.client.request(method, params)
        if self.observer is not None:
            self.observer(method, params, response)
        if "error" in response:
            err = response["error"]
            raise EngineRpcError(err.get("code", 0), err.get("message", ""))
        return response["result"]

    def attributes(
        self,
        timestamp: int,
        prev_randao: str,
        fee_recipient: str,
        withdrawals: list[dict[str, str]],
        beacon_root: str,
    ) -> tuple[int, dict[str, Any]]:
        fork = self.schedule.fork_at(timestamp)
        attrs: dict[str, Any] = {
            "timestamp": hex(timestamp),
            "prevRandao": prev_randao,
            "suggestedFeeRecipient": fee_recipient,
        }
        if fork != "bellatrix":
            attrs["withdrawals"] = withdrawals
        if fork == "deneb":
            attrs["parentBeaconBlockRoot"] = beacon_root
        return VERSION[fork], attrs

    async def forkchoice(
        self,
        head: str,
        safe: str | None = None,
        finalized: str = ZERO32,
        attrs: dict[str, Any] | None = None,
        version: int | None = None,
    ) -> dict[str, Any]:
        if version is None:
            version = VERSION[self.schedule.fork_at(int(attrs["timestamp"], 16))] if attrs else 1
        fcs = {
            "headBlockHash": head,
            "safeBlockHash": safe or head,
            "finalizedBlockHash": finalized,
        }
        return await self.call(f"engine_forkchoiceUpdatedV{version}", [fcs, attrs])

    async def get_payload(self, version: int, payload_id: str) -> dict[str, Any]:
        res = await self.call(f"engine_getPayloadV{version}", [payload_id])
        return res if version == 1 else res["executionPayload"]

    async def new_payload(self, version: int, payload: dict, beacon_root: str | None) -> dict:
        params: list[Any] = [payload]
        if version == 3:
            params += [[], beacon_root]
        return await self.call(f"engine_newPayloadV{version}", params)

    async def produce(
        self,
        parent: str,
        timestamp: int,
        prev_randao: str = ZERO32,
        fee_recipient: str = "0x" + "00" * 20,
        withdrawals: list[dict[str, str]] | None = None,
        beacon_root: str | None = None,
        finalized: str = ZERO32,
        set_head: bool = True,
    ) -> Produced:
        """Build on ``parent`` at ``timestamp``, import the result and (optionally) make it head."""
        beacon_root = beacon_root or "0x" + timestamp.to_bytes(32, "big").hex()
        version, attrs = self.attributes(
            timestamp, prev_randao, fee_recipient, withdrawals or [], beacon_root
        )
        fcu = await self.forkchoice(parent, finalized=finalized, attrs=attrs, version=version)
        if fcu["payloadStatus"]["status"] != "VALID" or not fcu.get("payloadId"):
            raise EngineRpcError(0, f"forkchoiceUpdated did not start a build: {fcu}")
        payload = await self.get_payload(version, fcu["payloadId"])
        root = beacon_root if version == 3 else None
        status = await self.new_payload(version, payload, root)
        if set_head and status["status"] == "VALID":
            await self.forkchoice(payload["blockHash"], finalized=finalized, version=version)
        fork = self.schedule.fork_at(timestamp)
        return Produced(payload, fork, status, root)
