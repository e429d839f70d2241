# A tiny DNS responder for the network tests (no real DNS server is ever asked):
# answers A queries for NAME with ADDRESS, NXDOMAIN for other names, logs
# "SOURCE QNAME QTYPE" per query and exits after SECONDS.
#   dns-responder.py BIND-ADDRESS NAME ADDRESS SECONDS LOG
import socket, struct, sys, time
bind, name, addr, seconds, log = sys.argv[1], sys.argv[2].lower().rstrip("."), sys.argv[3], float(sys.argv[4]), sys.argv[5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((bind, 53))
end = time.time() + seconds
while time.time() < end:
    s.settimeout(max(0.1, end - time.time()))
    try:
        q, src = s.recvfrom(512)
    except socket.timeout:
        break
    if len(q) < 12:
        continue
    i, labels = 12, []
    while i < len(q) and q[i] != 0:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace")); i += 1 + q[i]
    qname = ".".join(labels).lower()
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0] if i + 3 <= len(q) else 0
    question = q[12:i + 5]
    with open(log, "a") as f:
        f.write("%s %s %d\n" % (src[0], qname, qtype))
    flags = 0x8180
    answers = b""
    if qname == name and qtype == 1:
        answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
    elif qname != name:
        flags = 0x8183
    s.sendto(q[:2] + struct.pack("!HHHHH", flags, 1, 1 if answers else 0, 0, 0) + question + answers, src)
