"""Real node processes for the sync and network harnesses: profiles, launcher, fault proxy."""

from .errors import ClusterError
from .fault_proxy import FaultProxy, FaultRecord, LinkFaults
from .launcher import NodeCluster
from .node_process import NodeProcess
from .partitions import Partition
from .profiles import ALYS, PROFILES, REFERENCE, NodeProfile, ProfileUnsupported, get_profile
from .rpc_client import RpcClient, RpcError, RpcUnavailable

__all__ = [
    "ALYS",
    "PROFILES",
    "REFERENCE",
    "ClusterError",
    "FaultProxy",
    "FaultRecord",
    "LinkFaults",
    "NodeCluster",
    "NodeProcess",
    "NodeProfile",
    "Partition",
    "ProfileUnsupported",
    "RpcClient",
    "RpcError",
    "RpcUnavailable",
    "get_profile",
]
