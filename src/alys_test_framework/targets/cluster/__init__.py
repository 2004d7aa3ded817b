"""Real node processes for the sync and network harnesses: launcher, fault proxy, RPC client."""

from .fault_proxy import FaultProxy, FaultRecord, LinkFaults
from .launcher import ClusterError, ClusterTimeout, NodeCluster, NodeProcess, Observation
from .partitions import Partition
from .rpc_client import RpcClient, RpcError, RpcUnavailable

__all__ = [
    "ClusterError",
    "ClusterTimeout",
    "FaultProxy",
    "FaultRecord",
    "LinkFaults",
    "NodeCluster",
    "NodeProcess",
    "Observation",
    "Partition",
    "RpcClient",
    "RpcError",
    "RpcUnavailable",
]
