"""Chain data model and pure validation: blocks, chain spec, Merkle roots, checkpoint digests."""
