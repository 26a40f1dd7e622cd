"""Stubs generated from proto/tinyv/v1/verifier.proto by scripts/gen.py. Do not edit."""
