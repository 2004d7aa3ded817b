"""What the foundation checks share: the harness base holding the injectable subjects."""

from .subjects import FoundationBase

__all__ = ["FoundationBase"]
