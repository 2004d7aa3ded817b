"""Oracles: independent reference logic the framework owns, to judge targets with.

A harness must never judge a target with the target's own code: a bug shared by the judge and
the judged is invisible. Each oracle here is written from the specification on well-kept
libraries (pyblst and py_ecc for BLS, rlp and eth-hash for block hashes, remerkleable for SSZ
roots) and carries the specification's own test vectors in ``alys_test_framework/data``.

Layer rule (checked by import-linter): this package never imports ``alys_node`` or
``alys_actors``, not even inside a function.
"""
