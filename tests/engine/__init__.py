"""Tests of the workflow engine (a pure library: no app, no database)."""
