"""The reader's bounds: huge or hostile input is refused or bounded, never hung."""

MAX_POLICY_BYTES = 1_048_576
MAX_DEPTH = 64
IDENTITY_POLICY_LIMIT = 6144
RESOURCE_POLICY_LIMIT = 32768
