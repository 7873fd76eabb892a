"""Seeded synthetic tasks, one family per file. Each documents one worked example of its encoding."""
