"""blindrouter's blindness harness: a leakage audit and conformance run for WAMP routers
that carry end-to-end encrypted payloads. See README.md; entry point ``harness run``."""
