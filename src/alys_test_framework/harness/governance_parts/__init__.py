"""Test groups of GovernanceIntegrationHarness (one concept per module)."""
