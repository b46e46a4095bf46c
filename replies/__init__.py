"""Outgoing mail: when to answer (RFC 3834 policy), templates, rendering, transports, the sender loop."""
