#!/usr/bin/env python3
"""The device side of an ESPHome native OTA upload, for making reference captures.

Plays an ESPHome device (components/esphome/ota/ota_esphome.cpp) against the REAL uploader,
esphome/espota2.py from a released esphome wheel (see esphome_upload.py), per
shared/docs/arduino-ota.md §3.3:

  magic 6C 26 F7 5C 45 -> `00 02` (OTA v2); client feature byte ->
    --era 2024: `46` (supports compression) when the client offers 0x01, else `40`
    --era 2026: `48 <flags=01>` when the client sets 0x04 (extended protocol), else as 2024
  auth: no --password -> `41`; 2024: `01` + MD5 hex of 8 random hex digits;
    2026: `02` + SHA-256 hex of 8 random bytes (error `82` to a client without 0x02);
    client sends cnonce then response = H(password || nonce || cnonce) hex; `41` or `82`+close
  (extended) 1 byte OTA type; 4-byte size BE -> `42`; 32-hex MD5 -> `43`; data with `47` per
  8192 bytes received (and one for the last part); `44`, then `45` when the MD5 of what was
  received matches (else the error byte, e.g. --end-error 0x8B = md5 mismatch); reads the
  client's `00`.

This is a simulator written for watch3232's tests, not upstream code.
"""
import argparse
import hashlib
import os
import socket
import sys


def log(*a):
    print("fake_esphome:", *a, file=sys.stderr, flush=True)


def readn(c, n):
    out = b""
    while len(out) < n:
        b = c.recv(n - len(out))
        if not b:
            raise EOFError("closed after %d of %d bytes" % (len(out), n))
        out += b
    return out


def session(c, o):
    assert readn(c, 5) == bytes([0x6C, 0x26, 0xF7, 0x5C, 0x45]), "magic"
    c.sendall(bytes([0x00, 0x02]))
    feat = readn(c, 1)[0]
    log("client features 0x%02x" % feat)
    extended = o.era == "2026" and feat & 0x04
    if extended:
        c.sendall(bytes([0x48, 0x01]))
    else:
        c.sendall(bytes([0x46 if feat & 0x01 else 0x40]))
    if o.password:
        if o.era == "2026":
            if not feat & 0x02:
                c.sendall(bytes([0x82]))
                return
            nonce = hashlib.sha256(os.urandom(8)).hexdigest()
            h = hashlib.sha256
            c.sendall(b"\x02" + nonce.encode())
        else:
            nonce = hashlib.md5(b"%08x" % int.from_bytes(os.urandom(4), "big")).hexdigest()
            h = hashlib.md5
            c.sendall(b"\x01" + nonce.encode())
        n = len(nonce)
        cnonce = readn(c, n).decode()
        response = readn(c, n).decode()
        want = h((o.password + nonce + cnonce).encode()).hexdigest()
        if response != want:
            log("auth invalid")
            c.sendall(bytes([0x82]))
            return
    c.sendall(bytes([0x41]))
    if extended:
        log("ota type", readn(c, 1)[0])
    size = int.from_bytes(readn(c, 4), "big")
    c.sendall(bytes([0x42]))
    md5 = readn(c, 32).decode()
    c.sendall(bytes([0x43]))
    got, acked, hm = 0, 0, hashlib.md5()
    while got < size:
        b = c.recv(min(1460, size - got))
        if not b:
            log("closed after", got)
            return
        got += len(b)
        hm.update(b)
        while acked + 8192 <= got or (got == size and acked < size):
            c.sendall(bytes([0x47]))
            acked += 8192
    c.sendall(bytes([0x44]))
    if hm.hexdigest() != md5 or o.end_error:
        code = int(o.end_error or "0x8B", 0)
        log("update end error 0x%02x" % code)
        c.sendall(bytes([code]))
        return
    c.sendall(bytes([0x45]))
    log("ack", readn(c, 1))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--era", choices=["2024", "2026"], required=True)
    p.add_argument("--bind", default="0.0.0.0")
    p.add_argument("--port", type=int, default=3232)
    p.add_argument("--password", default="")
    p.add_argument("--end-error", help="error byte instead of 45 at the end, e.g. 0x84")
    o = p.parse_args()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((o.bind, o.port))
    s.listen(1)
    c, peer = s.accept()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    log("connection from", peer)
    try:
        session(c, o)
    except EOFError as e:
        log(e)
    c.close()


if __name__ == "__main__":
    main()
