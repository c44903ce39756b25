"""Which manager installs a package, and why: one policy function behind which the rules live."""

from condauv.classification.policy import Decision, Manager, decide, seed_manager

__all__ = ["Decision", "Manager", "decide", "seed_manager"]
