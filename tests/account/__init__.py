"""Account snapshots and the account-level decision."""
