"""Local fake servers the integration and job tests talk to (DESIGN.md, "Tests")."""
