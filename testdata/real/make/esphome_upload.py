#!/usr/bin/env python3
"""Runs the REAL esphome/espota2.py of an unpacked esphome wheel against a device.

  esphome_upload.py WHEEL_DIR HOST PORT PASSWORD FIRMWARE

WHEEL_DIR is a directory where a released esphome wheel was unpacked (`pip download --no-deps
esphome==VERSION`, then unzip); its esphome/espota2.py is loaded unchanged. espota2 imports two
names from the rest of esphome that pull in the whole package (EsphomeError from esphome.core,
and resolve_ip_address / is_ip_address / ProgressBar from esphome.helpers): small stand-ins are
put in their place, and the upload goes through espota2's own perform_ota() on a socket
connected to HOST:PORT (the protocol code is entirely upstream's). Exit 0 = perform_ota returned.
"""
import importlib.util
import logging
import os
import socket
import sys
import types


def stand_ins():
    core = types.ModuleType("esphome.core")

    class EsphomeError(Exception):
        pass

    core.EsphomeError = EsphomeError
    helpers = types.ModuleType("esphome.helpers")

    class ProgressBar:
        def __init__(self, *a):
            pass

        def update(self, progress):
            pass

        def done(self):
            pass

    helpers.ProgressBar = ProgressBar
    helpers.is_ip_address = lambda h: True
    helpers.resolve_ip_address = lambda *a, **k: None
    pkg = types.ModuleType("esphome")
    pkg.__path__ = []
    sys.modules.update({"esphome": pkg, "esphome.core": core, "esphome.helpers": helpers})


def main():
    wheel, host, port, password, firmware = sys.argv[1:6]
    logging.basicConfig(level=logging.DEBUG, format="%(name)s %(levelname)s %(message)s")
    stand_ins()
    path = os.path.join(wheel, "esphome", "espota2.py")
    spec = importlib.util.spec_from_file_location("esphome.espota2", path)
    espota2 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(espota2)
    sock = socket.create_connection((host, int(port)), timeout=20)
    try:
        with open(firmware, "rb") as f:
            espota2.perform_ota(sock, password or None, f, firmware)
    except espota2.OTAError as e:
        logging.error("%s", e)
        return 1
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
