#!/usr/bin/env python3
"""Deterministic firmware images for the reference uploads (the same bytes on every run).

  mkfw.py esp32 OUT SIZE     ESP32-S3 app image: esp_image_header_t (24 bytes), a segment
                             header, esp_app_desc_t at offset 0x20 (project `blink-demo`,
                             version `1.2.3`, IDF `v5.5.1`, built `Nov 25 2026` `12:34:56`),
                             then a body half text (compressible) and half pseudo-random
  mkfw.py esp8266 OUT SIZE   ESP8266 Arduino image: the 8-byte header (magic 0xE9), body
  mkfw.py fs OUT SIZE        a filesystem image (no magic byte)
Layouts: shared/docs/arduino-ota.md §4.1, §4.2.
"""
import hashlib
import struct
import sys


def stream(seed, n):
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s-%d" % (seed, i)).digest()
        i += 1
    return bytes(out[:n])


def body(seed, n):
    text = b"".join(b"blink-demo: led %d toggled; heap ok\n" % i for i in range(n // 64 + 1))
    half = n // 2
    return text[:half] + stream(seed, n - half)


def esp32(size):
    hdr = bytes([0xE9, 0x03, 0x02, 0x2F]) + struct.pack("<I", 0x40375A1C)
    hdr += bytes([0xEE, 0, 0, 0]) + struct.pack("<H", 0x0009) + bytes([0])
    hdr += struct.pack("<HH", 0, 99) + bytes(4) + bytes([0])
    assert len(hdr) == 24
    seg = struct.pack("<II", 0x3C020020, 0x1000)
    d = bytearray(256)
    d[0:4] = struct.pack("<I", 0xABCD5432)
    for off, s in ((16, b"1.2.3"), (48, b"blink-demo"), (80, b"12:34:56"), (96, b"Nov 25 2026"), (112, b"v5.5.1")):
        d[off:off + len(s)] = s
    d[144:176] = hashlib.sha256(b"blink-demo.elf").digest()
    img = hdr + seg + bytes(d)
    return img + body(b"esp32", size - len(img))


def esp8266(size):
    hdr = bytes([0xE9, 0x01, 0x02, 0x40, 0x00, 0x00, 0x10, 0x40])
    return hdr + body(b"esp8266", size - len(hdr))


def fs(size):
    return b"littlefs" + body(b"fs", size - 8)


def main():
    kind, out, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    data = {"esp32": esp32, "esp8266": esp8266, "fs": fs}[kind](size)
    with open(out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
