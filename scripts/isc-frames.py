#!/usr/bin/env python3
"""Cuts the failover messages out of a capture of an ISC dhcpd pair.

    scripts/isc-frames.py isc-pair.pcap PRIMARY_IP > tests/fixtures/isc/frames.txt

Each TCP stream on port 647 is reassembled per direction (tshark's
`tcp.payload`, in capture order: a veth link neither loses nor reorders)
and cut at each message's own length (the first two octets, header
included: draft-ietf-dhc-failover-12 section 6.1). One line per message, in
the order sent on its stream: `<stream> <primary|secondary> <hex>`, with
`#` comment lines naming the message type for a reader.
"""
import subprocess
import sys

TYPES = {1: "POOLREQ", 2: "POOLRESP", 3: "BNDUPD", 4: "BNDACK", 5: "CONNECT",
         6: "CONNECTACK", 7: "UPDREQALL", 8: "UPDDONE", 9: "UPDREQ",
         10: "STATE", 11: "CONTACT", 12: "DISCONNECT"}


def segments(pcap):
    out = subprocess.run(
        ["tshark", "-r", pcap, "-Y", "tcp.len > 0", "-T", "fields",
         "-e", "tcp.stream", "-e", "ip.src", "-e", "tcp.payload"],
        check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        stream, src, payload = line.split("\t")
        yield int(stream), src, bytes.fromhex(payload.replace(":", ""))


def main():
    pcap, primary = sys.argv[1], sys.argv[2]
    buffers = {}
    order = []
    for stream, src, data in segments(pcap):
        key = (stream, "primary" if src == primary else "secondary")
        buffers.setdefault(key, bytearray()).extend(data)
        while len(buffers[key]) >= 2:
            buf = buffers[key]
            size = int.from_bytes(buf[0:2], "big")
            if size < 12 or len(buf) < size:
                break
            order.append((key, bytes(buf[:size])))
            del buf[:size]
    for key, rest in buffers.items():
        if rest:
            sys.exit(f"stream {key}: {len(rest)} octets left over")
    print("# ISC dhcpd 4.4.3-P1 failover pair, captured by scripts/isc-capture.sh")
    for (stream, side), msg in order:
        print(f"# {side} sends {TYPES.get(msg[2], msg[2])} ({len(msg)} octets)")
        print(f"{stream} {side} {msg.hex()}")


if __name__ == "__main__":
    main()
