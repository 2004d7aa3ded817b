"""JSON Schema of report.json, version 1: the contract for tools that read our reports.

Bump SCHEMA_VERSION (json_report.py) and this schema together; additions of optional keys keep
the version, removals or meaning changes bump it.
"""

from __future__ import annotations

from typing import Any

_STATUS = ["passed", "failed", "skipped", "error", "not_implemented", "unsupported"]
_PHASE_STATUS = ["passed", "failed", "not_implemented", "skipped", "interrupted"]

_TEST = {
    "type": "object",
    "required": ["name", "harness", "category", "status", "duration_s", "message", "metrics"],
    "properties": {
        "name": {"type": "string"},
        "harness": {"type": "string"},
        "category": {"type": "string"},
        "status": {"enum": _STATUS},
        "duration_s": {"type": "number", "minimum": 0},
        "message": {"type": "string"},
        "metrics": {"type": "object"},
    },
}

_VERDICT = {
    "type": "object",
    "required": ["validator", "status", "message", "details"],
    "properties": {
        "validator": {"type": "string"},
        "status": {"enum": ["passed", "failed", "skipped"]},
        "message": {"type": "string"},
        "details": {"type": "object"},
    },
}

_SUMMARY = {
    "type": "object",
    "required": ["run_id", "status", "phases", "tests"],
    "properties": {
        "run_id": {"type": "string"},
        "status": {"enum": ["passed", "failed", "interrupted"]},
        "phases": {"type": "object", "additionalProperties": {"enum": _PHASE_STATUS}},
        "tests": {
            "type": "object",
            "required": ["total", *_STATUS],
            "additionalProperties": {"type": "integer", "minimum": 0},
        },
        "gates": {
            "type": "object",
            "additionalProperties": {"enum": ["passed", "failed", "skipped"]},
        },
    },
}

REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "alys-test report.json",
    "type": "object",
    "required": [
        "schema_version",
        "run_id",
        "seed",
        "started_at",
        "finished_at",
        "status",
        "interrupted",
        "config",
        "summary",
        "phases",
        "metrics",
    ],
    "properties": {
        "schema_version": {"const": 1},
        "run_id": {"type": "string"},
        "seed": {"type": "integer", "minimum": 0},
        "started_at": {"type": "number"},
        "finished_at": {"type": "number"},
        "status": {"enum": ["passed", "failed", "interrupted"]},
        "interrupted": {"type": "boolean"},
        "signal": {"enum": ["", "SIGINT", "SIGTERM"]},
        "commit": {"type": "string"},
        "config": {"type": "object"},
        "summary": _SUMMARY,
        "phases": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "phase",
                    "status",
                    "message",
                    "duration_s",
                    "harnesses",
                    "validators",
                    "metrics",
                    "tests",
                ],
                "properties": {
                    "phase": {
                        "enum": [
                            "foundation",
                            "actor-core",
                            "sync-improvement",
                            "lighthouse-migration",
                            "governance-integration",
                        ]
                    },
                    "status": {"enum": _PHASE_STATUS},
                    "message": {"type": "string"},
                    "duration_s": {"type": "number", "minimum": 0},
                    "harnesses": {"type": "array", "items": {"type": "string"}},
                    "validators": {"type": "array", "items": _VERDICT},
                    "metrics": {"type": "object"},
                    "harness_metrics": {"type": "object"},
                    "tests": {"type": "array", "items": _TEST},
                },
            },
        },
        "metrics": {
            "type": "object",
            "required": ["resources", "execution", "performance", "phases"],
        },
        "gates": {"type": "array", "items": _VERDICT},
        "coverage": {
            "type": "object",
            "required": ["lines", "covered", "percent", "threshold_pct", "files"],
            "properties": {
                "lines": {"type": "integer", "minimum": 0},
                "covered": {"type": "integer", "minimum": 0},
                "percent": {"type": "number", "minimum": 0, "maximum": 100},
                "threshold_pct": {"type": "number"},
                "files": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["path", "lines", "covered", "percent", "missing"],
                    },
                },
            },
        },
    },
}


def validate_report(report: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError if ``report`` does not follow schema version 1."""
    import jsonschema

    jsonschema.validate(report, REPORT_SCHEMA)
