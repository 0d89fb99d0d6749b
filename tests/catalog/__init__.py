"""The action catalog: data files, lookups, and coverage of the KMS API."""
