"""What each reference capture is: the real program that made it, its peer, and the scenario.

manifest.py turns this, the run records (runs/*.json) and the captures into MANIFEST.json.
"""

ESPOTA_MD5 = {
    "tool": "espota.py (arduino-esp32, MD5 authentication era, before 3.3.1)",
    "version": "arduino-esp32 tools/espota.py at commit 8edd52997986dbefce98b013383fb08f9eeca83f (argparse revision of 2023-05-22)",
    "source": "https://github.com/espressif/arduino-esp32 tools/espota.py @ 8edd52997986dbefce98b013383fb08f9eeca83f",
}
ESPOTA_PBKDF2 = {
    "tool": "espota.py (arduino-esp32 3.3.1+, PBKDF2-HMAC-SHA256 authentication)",
    "version": "arduino-esp32 tools/espota.py, 3.3.1+ revision whose header lists the changes of 2025-09-04 (PBKDF2), 2025-09-18 and 2025-10-07 (MD5-stored passwords)",
    "source": "https://github.com/espressif/arduino-esp32 tools/espota.py (the text of a stored copy of the public code index; the repository snapshot was too large to fetch, so its commit is not known; tool_file_sha256 identifies the exact file)",
}
ESPOTA_8266 = {
    "tool": "espota.py (esp8266/Arduino)",
    "version": "esp8266/Arduino tools/espota.py at commit 9afb084159096aefa509aa2a9f962d15c7f5f146 (last change to the file; repository HEAD f946290ea993db029a90010927cdc1d645c91940)",
    "source": "https://github.com/esp8266/Arduino tools/espota.py @ 9afb084159096aefa509aa2a9f962d15c7f5f146",
}
ESPHOME_OLD = {
    "tool": "esphome espota2.py (MD5 authentication era)",
    "version": "esphome 2024.10.3",
    "source": "PyPI esphome==2024.10.3, esphome-2024.10.3-py3-none-any.whl (sha256 b6a22c627c7f683ce7704bf4c13bdee37fb5301db0a974bc940843c8662ba892), esphome/espota2.py run unchanged through make/esphome_upload.py",
}
ESPHOME_NEW = {
    "tool": "esphome espota2.py (SHA-256 authentication, extended protocol)",
    "version": "esphome 2026.6.5",
    "source": "PyPI esphome==2026.6.5, esphome-2026.6.5-py3-none-any.whl (sha256 4edcebb876c160aea2376cf32453a9b32b64afbb65d49cb4bdd66e2538edba51), esphome/espota2.py run unchanged through make/esphome_upload.py",
}
FAKE_ESP = "testdata/real/make/fake_esp.py, a device simulator written for these captures (no real ESP32/ESP8266), answering as ArduinoOTA.cpp does"
FAKE_ESPHOME = "testdata/real/make/fake_esphome.py, a device simulator written for these captures (no real ESPHome device), answering as ota_esphome.cpp does"


def ota(name, tool, kind, outcome, scenario, port=3232):
    peer = FAKE_ESPHOME if kind == "esphome" else FAKE_ESP
    return {"name": name, "file": "ota/%s.pcap" % name, "kind": kind, **tool, "peer": peer,
            "outcome": outcome, "device_port": port, "scenario": scenario}


ALL = [
    ota("esp32_md5_ok", ESPOTA_MD5, "espota", "complete",
        "ESP32 (arduino-esp32 <= 3.3.0) with password ota-secret; the uploader gives the right password (MD5 challenge accepted); 24576-byte ESP32-S3 image blink-demo 1.2.3 flashed; device answers OK"),
    ota("esp32_md5_wrong_password", ESPOTA_MD5, "espota", "auth_failed",
        "MD5-era device with password ota-secret; uploader gives not-the-password; device answers Authentication Failed; espota exits 1"),
    ota("esp32_md5_aborted", ESPOTA_MD5, "espota", "aborted",
        "MD5-era device accepts the password, then drops the connection after 10240 image bytes without a word (as a reset or `Receive Failed` does); espota fails with a broken pipe"),
    ota("esp32_noauth_filesystem", ESPOTA_MD5, "espota", "complete",
        "device without password; espota -s uploads an 8192-byte filesystem image (command 100); accepted without challenge; OK"),
    ota("esp32_md5_flash_error", ESPOTA_MD5, "espota", "failed",
        "device without password receives the whole image, then Update.end() fails: it sends `Flash Write Failed` CRLF instead of OK; espota reports `Error response from device`"),
    ota("esp32_pbkdf2_ok", ESPOTA_PBKDF2, "espota", "complete",
        "ESP32 (arduino-esp32 3.3.1+, setPassword(ota-secret): SHA-256 stored); PBKDF2 challenge, right password, image flashed, OK"),
    ota("esp32_pbkdf2_wrong_password", ESPOTA_PBKDF2, "espota", "auth_failed",
        "3.3.1+ device; uploader gives not-the-password: rejected; espota re-invites and retries with the MD5-hashed password: rejected again; two invitations, two failures"),
    ota("esp32_pbkdf2_md5_stored", ESPOTA_PBKDF2, "espota", "complete",
        "3.3.1+ device whose sketch stores an MD5 password hash; espota's SHA-256 attempt is rejected, its re-invitation with the MD5 hash accepted; image flashed, OK"),
    ota("esp32_pbkdf2_aborted", ESPOTA_PBKDF2, "espota", "aborted",
        "3.3.1+ device accepts, then drops the connection after 4096 image bytes without a word"),
    ota("esp32_pbkdf2_to_md5_device", ESPOTA_PBKDF2, "espota", "complete",
        "the 3.3.1+ uploader against an MD5-era device: it sees a 32-hex nonce and answers with the old MD5 scheme; accepted; OK"),
    ota("esp8266_ok", ESPOTA_8266, "espota", "complete",
        "ESP8266 with password ota-secret on port 8266; MD5 challenge accepted; 20000-byte ESP8266 image in 1460-byte chunks; OK after the device's 1 s pause", port=8266),
    ota("esp8266_begin_error", ESPOTA_8266, "espota", "failed",
        "ESP8266 without password whose Update.begin() fails: it answers the invitation with `ERR: ERROR[4]: Not Enough Space` and never connects", port=8266),
    ota("esphome_2024_md5_ok", ESPHOME_OLD, "esphome", "complete",
        "ESPHome device (OTA v2, MD5 era) with password ota-secret; compression offered and supported (gzip upload); MD5 auth accepted; chunk acks; 44 45, client 00"),
    ota("esphome_2024_md5_mismatch", ESPHOME_OLD, "esphome", "failed",
        "ESPHome device without password; the whole gzip upload arrives, then the device reports error 0x8B (MD5 mismatch) after 44"),
    ota("esphome_2026_sha256_ok", ESPHOME_NEW, "esphome", "complete",
        "ESPHome device of the SHA-256 era: extended protocol (48 01), SHA-256 auth with password ota-secret accepted, OTA type 0 (app), gzip upload, complete"),
    ota("esphome_2026_wrong_password", ESPHOME_NEW, "esphome", "auth_failed",
        "SHA-256-era device; the uploader's password is wrong; the device answers 82 (auth invalid) and closes"),
]
