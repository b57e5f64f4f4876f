"""Thin clients for third-party services, one module per provider (DESIGN.md)."""
