"""Errors raised by the runtime.

Every error a caller can see derives from ActorError so one except clause can catch "the actor
layer refused", while the concrete classes keep the reason machine-checkable.
"""

from __future__ import annotations


class ActorError(Exception):
    """Base class of every runtime error."""


class MailboxFull(ActorError):
    """The target mailbox had no room and its policy refuses (REJECT) or the call cannot wait."""


class ActorStopped(ActorError):
    """The target actor is stopping or stopped, so the message can never be handled."""


class AskTimeout(ActorError, TimeoutError):
    """No reply arrived in time; a TimeoutError so generic timeout handling also catches it."""


class DuplicateName(ActorError):
    """A name is already registered; names identify actors, so they must be unique."""


class UnhandledMessage(ActorError):
    """The actor has no handler for a message type; treated as a failure, never silently ignored."""


class ActorStartError(ActorError):
    """on_start raised during spawn, so the actor never ran (the cause is chained)."""


class Escalation(ActorError):
    """A supervisor exceeded its restart intensity and hands the failure to its parent."""


class ActorKilled(ActorStopped):
    """The actor was killed; pending asks fail with this reason."""


class NormalExit(ActorError):
    """Marker passed to pre_restart when a permanent child stopped itself and is restarted."""
