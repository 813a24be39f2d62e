"""Test support shared by several test modules: one module per topic (tests never import tests)."""
