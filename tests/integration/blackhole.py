#!/usr/bin/env python3
"""A loopback listener that accepts connections and never says anything:
the 'black hole' a greeting timeout must catch. Prints its port, then
serves until killed. Loopback only (network rule)."""
import socket, sys, time

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
held = []
deadline = time.time() + 600  # never outlive a test run
while time.time() < deadline:
    s.settimeout(1.0)
    try:
        c, _ = s.accept()
        held.append(c)
    except socket.timeout:
        pass
