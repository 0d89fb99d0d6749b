"""kmssmt: prove properties of Alibaba Cloud RAM policies for KMS with the Z3 SMT solver."""

__version__ = "0.1.0"
