"""The node's actors: Storage, Chain, Network, Sync and Rpc (V2 architecture in miniature)."""
