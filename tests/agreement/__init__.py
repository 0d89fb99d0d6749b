"""Agreement of the symbolic answers with brute force over the concrete evaluator."""
