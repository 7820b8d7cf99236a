"""The wire skin: the vendor-compatible HTTP service, its client, and the command line."""
