#!/usr/bin/env python3
"""Announces OTA-capable devices on mDNS with python-zeroconf (a real mDNS implementation), as
the devices themselves do, for the mDNS reference capture.

  mdns_announce.py BIND_IP

- an ESP32 running ArduinoOTA: service `_arduino._tcp`, instance and host `esp32-240ac4323202`
  (ArduinoOTA's default name: `esp32-` + the 12 hex digits of the MAC), port 3232, TXT
  board=esp32s3, tcp_check=no, ssh_upload=no, auth_upload=yes (ESPmDNS enableArduino(),
  shared/docs/arduino-ota.md §1.7);
- an ESPHome device: service `_esphomelib._tcp`, instance `livingroom-sensor`, port 6053 (the
  native API port ESPHome announces), TXT friendly_name, version, mac, platform, board, network.

Each is registered (zeroconf probes, then announces), kept 3 s, and unregistered (goodbye).
The records are this script's (the devices do not exist here); the packets are zeroconf's.
"""
import socket
import sys
import time

from zeroconf import IPVersion, ServiceInfo, Zeroconf


def main():
    ip = sys.argv[1]
    zc = Zeroconf(interfaces=[ip], ip_version=IPVersion.V4Only)
    addr = [socket.inet_aton(ip)]
    arduino = ServiceInfo(
        "_arduino._tcp.local.",
        "esp32-240ac4323202._arduino._tcp.local.",
        addresses=addr,
        port=3232,
        properties={"board": "esp32s3", "tcp_check": "no", "ssh_upload": "no", "auth_upload": "yes"},
        server="esp32-240ac4323202.local.",
    )
    esphome = ServiceInfo(
        "_esphomelib._tcp.local.",
        "livingroom-sensor._esphomelib._tcp.local.",
        addresses=addr,
        port=6053,
        properties={
            "friendly_name": "Living room sensor",
            "version": "2026.6.5",
            "mac": "240ac4323202",
            "platform": "ESP32",
            "board": "esp32dev",
            "network": "wifi",
        },
        server="livingroom-sensor.local.",
    )
    zc.register_service(arduino)
    zc.register_service(esphome)
    time.sleep(3)
    zc.unregister_all_services()
    zc.close()


if __name__ == "__main__":
    main()
