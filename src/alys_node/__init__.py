"""alys_node: a small reference Alys V2 node built on alys_actors (a system under test)."""
