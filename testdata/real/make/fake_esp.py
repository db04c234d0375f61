#!/usr/bin/env python3
"""The device side of an ArduinoOTA (espota) upload, for making reference captures.

No ESP32 or ESP8266 exists where the captures are made, so this plays the device: it answers
the REAL uploader (espota.py of arduino-esp32 or esp8266/Arduino, given to the make scripts by
path) the way ArduinoOTA.cpp does, per shared/docs/arduino-ota.md:

  esp32-md5     arduino-esp32 <= 3.3.0 (§1.2-1.4, §1.6): UDP `OK` / `AUTH <md5 hex nonce>`,
                answer `200 <cnonce> <response>` checked as MD5(MD5hex(pw):nonce:cnonce),
                `Authentication Failed` and back to idle; connect back to the invitation's host
                port, read <= 1460 bytes at a time, answer each write with its decimal size (no
                separator), `OK` when Update.end() succeeds (image MD5 equals the invitation's),
                else the Updater error text + CRLF.
  esp32-pbkdf2  arduino-esp32 3.3.1+ (§1.5): 64-hex SHA-256 nonce, response
                SHA256(hex(PBKDF2-HMAC-SHA256(stored, nonce:cnonce, 10000)):nonce:cnonce) where
                stored = SHA256hex(pw) (setPassword), or MD5hex(pw) with --stored-md5 (a sketch
                that calls setPasswordHash() with an MD5 hash).
  esp8266       esp8266/Arduino (§2): port 8266, MD5 auth, the UDP `OK` only after
                Update.begin() (or `ERR: ERROR[n]: <msg>` when it fails), 100 ms before the
                connect-back, counts of whatever was read, then flush, 1 s, `OK`, 1 s, close.

Faults to order (each a real device behaviour): --abort-after N (the device drops the
connection after N image bytes without a word: a reset or `Receive Failed`), --end-error TEXT
(Update.end() fails: TEXT + CRLF instead of `OK`), --begin-error TEXT (ESP8266: Update.begin()
fails). --mdns announces the device once on mDNS first (see mdns_announce.py).

This is a simulator written for watch3232's tests, not upstream code.
"""
import argparse
import hashlib
import socket
import sys
import time


def log(*a):
    print("fake_esp:", *a, file=sys.stderr, flush=True)


def md5hex(b):
    return hashlib.md5(b).hexdigest()


def sha256hex(b):
    return hashlib.sha256(b).hexdigest()


class Device:
    def __init__(self, o):
        self.o = o
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((o.bind, o.port))
        self.sessions = 0
        self.micros0 = time.monotonic()

    def micros(self):
        return int((time.monotonic() - self.micros0) * 1e6)

    def stored_password(self):
        pw = self.o.password.encode()
        if self.o.mode == "esp32-pbkdf2" and not self.o.stored_md5:
            return sha256hex(pw)
        return md5hex(pw)

    def new_nonce(self):
        seed = str(self.micros()).encode()
        if self.o.mode == "esp32-pbkdf2":
            return sha256hex(seed)
        return md5hex(seed)

    def expected(self, nonce, cnonce):
        stored = self.stored_password()
        if self.o.mode == "esp32-pbkdf2":
            salt = (nonce + ":" + cnonce).encode()
            dk = hashlib.pbkdf2_hmac("sha256", stored.encode(), salt, 10000).hex()
            return sha256hex((dk + ":" + nonce + ":" + cnonce).encode())
        return md5hex((stored + ":" + nonce + ":" + cnonce).encode())

    def run(self):
        state, inv, nonce = "idle", None, None
        while self.sessions < self.o.max_sessions:
            data, peer = self.udp.recvfrom(1460)
            text = data.decode("latin-1")
            if state == "idle":
                parts = text.split()
                if len(parts) != 4 or parts[0] not in ("0", "100") or len(parts[3]) != 32:
                    log("ignored", repr(text))
                    continue
                inv = {
                    "cmd": int(parts[0]),
                    "ip": peer[0],
                    "port": int(parts[1]),
                    "size": int(parts[2]),
                    "md5": parts[3],
                }
                log("invitation", inv)
                if self.o.password:
                    nonce = self.new_nonce()
                    self.udp.sendto(("AUTH %s" % nonce).encode(), peer)
                    state = "waitauth"
                    continue
                self.accept(inv, peer)
            else:
                parts = text.split()
                n = len(nonce)
                if len(parts) != 3 or parts[0] != "200" or len(parts[1]) != n or len(parts[2]) != n:
                    log("auth param fail", repr(text))
                    state = "idle"
                    continue
                if self.expected(nonce, parts[1]) == parts[2]:
                    log("auth ok")
                    self.accept(inv, peer)
                else:
                    log("auth failed")
                    self.udp.sendto(b"Authentication Failed", peer)
                    if self.o.fail_ends_session:
                        self.sessions += 1
                state = "idle"

    def accept(self, inv, peer):
        o = self.o
        if o.mode == "esp8266":
            if o.begin_error:
                self.udp.sendto(("ERR: " + o.begin_error + "\n").encode(), peer)
                self.sessions += 1
                return
            self.udp.sendto(b"OK", peer)
            time.sleep(0.1)
        else:
            self.udp.sendto(b"OK", peer)
            time.sleep(0.02)  # Update.begin() erases the first flash sector
        self.sessions += 1
        self.transfer(inv)

    def transfer(self, inv):
        o = self.o
        c = socket.create_connection((inv["ip"], inv["port"]), timeout=10)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        got = 0
        h = hashlib.md5()
        while got < inv["size"]:
            buf = c.recv(1460)
            if not buf:
                log("uploader closed after", got)
                c.close()
                return
            if o.abort_after is not None and got + len(buf) > o.abort_after:
                log("aborting after", got)
                c.close()
                return
            got += len(buf)
            h.update(buf)
            c.sendall(str(len(buf)).encode())
        ok = h.hexdigest() == inv["md5"] and not o.end_error
        word = b"OK" if ok else ((o.end_error or "MD5 Check Failed") + "\r\n").encode()
        if o.mode == "esp8266":
            time.sleep(1.0)
            c.sendall(word)
            time.sleep(1.0)
        else:
            c.sendall(word)
            time.sleep(0.01)
        log("end", got, word)
        c.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=["esp32-md5", "esp32-pbkdf2", "esp8266"], required=True)
    p.add_argument("--bind", default="0.0.0.0")
    p.add_argument("--port", type=int)
    p.add_argument("--password", default="")
    p.add_argument("--stored-md5", action="store_true")
    p.add_argument("--abort-after", type=int)
    p.add_argument("--end-error")
    p.add_argument("--begin-error")
    p.add_argument("--max-sessions", type=int, default=1)
    p.add_argument(
        "--fail-ends-session",
        action="store_true",
        help="count a rejected answer as the end of a session (to exit after it)",
    )
    o = p.parse_args()
    if o.port is None:
        o.port = 8266 if o.mode == "esp8266" else 3232
    Device(o).run()


if __name__ == "__main__":
    main()
