"""alys_actors: an asyncio actor runtime with supervision trees, bounded priority mailboxes,
backpressure, drop policies, discovery and observability hooks.

Implements the contract in docs/ACTORS_API.md. Additions beyond the contract (nothing renamed or
removed): ActorSystem.fail (inject a failure), ActorSystem.actors/lookup/root, Actor.stop_self,
SupervisorRef.start_child, UnhandledMessage / ActorStartError / Escalation / ActorKilled errors,
ActorStats.snapshot, Mailbox.depth_by_priority, Registry.unregister/unwatch/services.

Semantics worth knowing (choices the contract leaves open):
- kill() is terminal (no restart, no on_stop); use fail() to simulate a crash the supervisor sees.
- stop() is graceful: new mail is refused, mail already queued is still handled within the
  timeout, then on_stop runs; leftovers become dead letters ("actor_stopped").
- Restart keeps the mailbox (queued messages go to the fresh instance). Default pre_restart calls
  on_stop and default post_restart calls on_start.
- Drop policies never evict a message for a less urgent one. DROP_OLDEST evicts the oldest
  message of the lowest level present if that level is not more urgent than the incoming message
  (else the incoming message is dropped); DROP_LOWEST_PRIORITY evicts the newest message of the
  lowest level present if it is strictly less urgent than the incoming one (else the incoming
  message is dropped). Dead-letter reasons name the policy ("dropped_oldest", ...), so counts per
  policy are exact.
- Actors from spawn() are TRANSIENT children of the root guardian (restart on failure, per-actor
  intensity 3 in 5 s, then stopped and reported). A top-level supervisor that escalates is
  stopped and reported to failure observers. PERMANENT children stopped by stop_self() are
  restarted; a stop() from outside is always final.
- stats.received counts accepted messages; stats.dropped counts messages to this actor that were
  dropped, rejected or left over at stop. The "processed" hook fires for failed messages too.
  handler_latency is measured from "loop ready for the message" to "handler done" (one clock read
  per message), so it includes dispatch overhead (~0.3 us) and any installed hooks.
- Supervisor internals never go through a pluggable mailbox_factory (only user actors do), and a
  restarted supervisor starts fresh child refs (child refs are stable across child restarts).
"""

from .actor import Actor, handler
from .deadletters import DeadLetter, DeadLetters
from .errors import (
    ActorError,
    ActorKilled,
    ActorStartError,
    ActorStopped,
    AskTimeout,
    DuplicateName,
    Escalation,
    MailboxFull,
    NormalExit,
    UnhandledMessage,
)
from .lifecycle import TRANSITIONS, LifecycleState
from .mailbox import Mailbox, MailboxConfig, OverflowPolicy, Priority, PutResult
from .patterns import BroadcastGroup, Pipeline, Router, gather_asks, request
from .ref import ActorRef
from .registry import Registry, Terminated
from .stats import ActorStats, LatencyHistogram
from .supervision import (
    ChildKind,
    ChildSpec,
    RestartPolicy,
    RestartRecord,
    Strategy,
    Supervisor,
    SupervisorRef,
)
from .system import ActorSystem

__all__ = [
    "Actor",
    "ActorError",
    "ActorKilled",
    "ActorRef",
    "ActorStartError",
    "ActorStats",
    "ActorStopped",
    "ActorSystem",
    "AskTimeout",
    "ChildKind",
    "ChildSpec",
    "DeadLetter",
    "DeadLetters",
    "DuplicateName",
    "Escalation",
    "LatencyHistogram",
    "LifecycleState",
    "Mailbox",
    "MailboxConfig",
    "MailboxFull",
    "NormalExit",
    "OverflowPolicy",
    "Priority",
    "PutResult",
    "Registry",
    "RestartPolicy",
    "RestartRecord",
    "Strategy",
    "Supervisor",
    "SupervisorRef",
    "TRANSITIONS",
    "Terminated",
    "UnhandledMessage",
    "BroadcastGroup",
    "Pipeline",
    "Router",
    "gather_asks",
    "handler",
    "request",
]
