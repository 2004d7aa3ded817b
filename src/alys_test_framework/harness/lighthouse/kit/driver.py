"""The consensus side of block production, spoken to an execution layer as a beacon node does.

forkchoiceUpdated with attributes starts a build, getPayload fetches it, newPayload imports it
and forkchoiceUpdated without attributes makes it head; the method version follows the fork
of the timestamp. Every exchange goes to an observer, which is how the harness validates the
whole conversation against the spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ....oracles.engine.forks import VERSION, ForkSchedule

ZERO32 = "0x" + "00" * 32
Observer = Callable[[str, list[Any], dict[str, Any]], None]


class RpcClient(Protocol):
    async def request(self, method: str, params: list[Any]) -> dict[str, Any]: ...


class EngineCallError(Exception):
    """The endpoint answered a JSON-RPC error (or no build where one was asked for)."""

    def __init__(self, method: str, code: int, message: str) -> None:
        super().__init__(f"{method} -> {code}: {message}")
        self.method, self.code, self.message = method, code, message


@dataclass
class Produced:
    payload: dict[str, Any]  # engine JSON ExecutionPayloadV1..V3
    fork: str
    status: dict[str, Any]  # newPayload's PayloadStatus
    parent_beacon_block_root: str | None
    withdrawals: list[dict[str, str]]  # what the attributes asked for

    @property
    def block_hash(self) -> str:
        return str(self.payload["blockHash"])

    @property
    def number(self) -> int:
        return int(self.payload["blockNumber"], 16)

    @property
    def timestamp(self) -> int:
        return int(self.payload["timestamp"], 16)


class EngineDriver:
    def __init__(
        self, client: RpcClient, schedule: ForkSchedule, observer: Observer | None = None
    ) -> None:
        self.client = client
        self.schedule = schedule
        self.observer = observer

    async def request(self, method: str, params: list[Any]) -> dict[str, Any]:
        """The whole response object, observed."""
        response = await self.client.request(method, params)
        if self.observer is not None:
            self.observer(method, params, response)
        return response

    async def call(self, method: str, params: list[Any]) -> Any:
        response = await self.request(method, params)
        if "error" in response:
            err = response["error"] if isinstance(response["error"], dict) else {}
            raise EngineCallError(method, err.get("code", 0), str(err.get("message", "")))
        return response.get("result")

    def attributes(
        self,
        timestamp: int,
        prev_randao: str,
        fee_recipient: str,
        withdrawals: list[dict[str, str]],
        beacon_root: str,
    ) -> tuple[int, dict[str, Any]]:
        """PayloadAttributesV1..V3 for the fork of ``timestamp``, and the method version."""
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
        result: dict[str, Any] = await self.call(
            f"engine_forkchoiceUpdatedV{version}", [fcs, attrs]
        )
        return result

    async def get_payload(self, version: int, payload_id: str) -> dict[str, Any]:
        res = await self.call(f"engine_getPayloadV{version}", [payload_id])
        return dict(res if version == 1 else res["executionPayload"])

    async def new_payload(
        self, version: int, payload: dict[str, Any], beacon_root: str | None
    ) -> dict[str, Any]:
        params: list[Any] = [payload]
        if version == 3:
            params += [[], beacon_root]
        return dict(await self.call(f"engine_newPayloadV{version}", params))

    async def build(
        self,
        parent: str,
        timestamp: int,
        prev_randao: str = ZERO32,
        fee_recipient: str = "0x" + "00" * 20,
        withdrawals: list[dict[str, str]] | None = None,
        beacon_root: str | None = None,
    ) -> tuple[int, dict[str, Any], str | None, list[dict[str, str]]]:
        """Ask for a payload on ``parent`` (version, payload, beacon root, withdrawals asked)."""
        beacon_root = beacon_root or "0x" + timestamp.to_bytes(32, "big").hex()
        withdrawals = withdrawals or []
        version, attrs = self.attributes(
            timestamp, prev_randao, fee_recipient, withdrawals, beacon_root
        )
        method = f"engine_forkchoiceUpdatedV{version}"
        fcu = await self.forkchoice(parent, attrs=attrs, version=version)
        if fcu["payloadStatus"]["status"] != "VALID" or not fcu.get("payloadId"):
            raise EngineCallError(method, 0, f"no build started on {parent[:18]}..: {fcu}")
        payload = await self.get_payload(version, fcu["payloadId"])
        return version, payload, beacon_root if version == 3 else None, withdrawals

    async def produce(
        self,
        parent: str,
        timestamp: int,
        prev_randao: str = ZERO32,
        fee_recipient: str = "0x" + "00" * 20,
        withdrawals: list[dict[str, str]] | None = None,
        beacon_root: str | None = None,
        set_head: bool = True,
    ) -> Produced:
        """Build on ``parent`` at ``timestamp``, import the result and (optionally) make it head."""
        version, payload, root, asked = await self.build(
            parent, timestamp, prev_randao, fee_recipient, withdrawals, beacon_root
        )
        status = await self.new_payload(version, payload, root)
        if set_head and status["status"] == "VALID":
            await self.forkchoice(payload["blockHash"], version=version)
        return Produced(payload, self.schedule.fork_at(timestamp), status, root, asked)
