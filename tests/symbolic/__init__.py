"""The symbolic encoding: partitions, corners of the encoding, agreement with the evaluator."""
