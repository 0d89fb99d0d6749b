"""The vocabulary of the policy language, below every other layer: wildcard matching and case folding
(glob), the typed values conditions compare (values: IP addresses and CIDRs, dates, numbers, booleans)
and the condition operators as data (operators). They import nothing else of kmssmt, so the reader
(policy/), the catalog and the semantics can all name them."""
