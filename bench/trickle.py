#!/usr/bin/env python3
"""Slow clients against a running server: N connections that each send one byte of a request header
every `interval` seconds (reconnecting when the server cuts them off), for `seconds`. Run wrk against
the same server meanwhile to see whether other clients are slowed (bench/trickle.sh does both).
    python3 bench/trickle.py PORT [connections=1000] [seconds=20] [interval=2]"""
import select
import socket
import sys
import time

port = int(sys.argv[1])
count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 20
interval = float(sys.argv[4]) if len(sys.argv) > 4 else 2
header = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4096

conns = {}
cut_off = 0


def connect(i):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    conns[i] = [s, 0]


for i in range(count):
    connect(i)
end = time.time() + seconds
while time.time() < end:
    for i, (s, sent) in list(conns.items()):
        try:
            s.send(header[sent % len(header):sent % len(header) + 1])
            conns[i][1] += 1
        except (BlockingIOError, ConnectionError, OSError):
            s.close()
            cut_off += 1
            connect(i)
    readable, _, _ = select.select([c[0] for c in conns.values()], [], [], 0)
    for s in readable:  # the server closed it (or answered 503): reconnect
        for i, c in list(conns.items()):
            if c[0] is s:
                s.close()
                cut_off += 1
                connect(i)
    time.sleep(interval)
print(f"trickle: {count} connections, one byte per {interval}s each for {seconds}s; "
      f"{cut_off} cut off by the server and reopened")
