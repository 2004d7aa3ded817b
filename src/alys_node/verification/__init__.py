"""Where signature checks run: a process pool beside the event loop (the rules are in chain/)."""

from alys_node.verification.pool import Verifier

__all__ = ["Verifier"]
