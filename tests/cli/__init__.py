"""The command line: exit codes, argument forms, errors, and the documented commands."""
