#!/usr/bin/env python3
"""Round-trip time of the PulseAudio native protocol, for make bench.

  pulse-rtt.py [N]   # talks to $PULSE_SERVER (unix:PATH)

Authenticates (with this process's SCM_CREDENTIALS, as libpulse does), then
sends N GET_SERVER_INFO requests one at a time, each waiting for its reply,
and prints the median and 90th percentile in microseconds. Run it against the
user's server and through the sound mediator: the difference is what the
mediator adds to each message of the sound path (stream writes, latency
queries, cork/uncork are all one such message).
"""
import os, socket, struct, sys, time

def u32(v): return b'L' + struct.pack('>I', v)

def send(s, payload, creds=False):
    frame = struct.pack('>IIIII', len(payload), 0xFFFFFFFF, 0, 0, 0) + payload
    if creds:
        ucred = struct.pack('iII', os.getpid(), os.getuid(), os.getgid())
        s.sendmsg([frame], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, ucred)])
    else:
        s.sendall(frame)

def read(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: raise SystemExit('the server closed the connection')
        b += c
    return b

def packet(s):
    return read(s, struct.unpack('>I', read(s, 20)[:4])[0])

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ['PULSE_SERVER'][5:])
send(s, u32(8) + u32(0) + u32(35) + b'x' + struct.pack('>I', 256) + bytes(256), creds=True)
if struct.unpack('>xI', packet(s)[:5])[0] != 2: raise SystemExit('AUTH refused')
times = []
for tag in range(1, n + 1):
    t = time.perf_counter_ns()
    send(s, u32(20) + u32(tag))
    reply = packet(s)
    times.append(time.perf_counter_ns() - t)
    if struct.unpack('>xIxI', reply[:10]) != (2, tag): raise SystemExit('unexpected reply')
times.sort()
print('median_us=%.1f p90_us=%.1f' % (times[n // 2] / 1000, times[n * 9 // 10] / 1000))
