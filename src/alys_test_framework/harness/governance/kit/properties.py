"""The governance harness's property runner is the framework's shared one
(``alys_test_framework.properties``): Hypothesis outside pytest, derandomized by the run seed,
the shrunk counterexample and the reproduction blob in the test's metrics, replay of a blob.
Re-exported here under the names the governance kit has always used.
"""

from __future__ import annotations

from ....properties import (
    BLOB_MARK,
    CaseCrashed,
    PropertyRun,
    report_property,
    run_property,
    slug,
)

__all__ = ["BLOB_MARK", "CaseCrashed", "PropertyRun", "report_property", "run_property", "slug"]
