"""Engine API oracles: the spec's codecs, OpenRPC schemas, block hashes and error codes.

Written from execution-apis (paris.md, shanghai.md, cancun.md, common.md) on jsonschema, rlp and
eth-hash, independently of any execution layer the harness judges.
"""
