# tests/local.mk - integration test hooks.
