"""Reading policy documents: parser, recovery, positions, limits, embedded Terraform/ROS, fuzzed input."""
