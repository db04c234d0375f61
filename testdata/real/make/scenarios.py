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
    "version": "arduino-esp32 tools/espota.py, 3.3.1+ revision: the text after PR espressif/arduino-esp32#11905 (`fix(ota): Fix authentication when using stored MD5 hashes`, 2025-10-07; merged as commit 43c079fc58f9aa530610405b1ba8c586151e26bc per shared/docs/arduino-ota.md) and before PR #12272 (2026-01-21, which changed its messages); header changes 2025-09-04, 2025-09-18, 2025-10-07",
    "source": "https://github.com/espressif/arduino-esp32 tools/espota.py, taken from a stored copy in a public code index (the repository snapshot was too large to fetch, so the copy's own commit could not be read; tool_file_sha256 identifies the exact file, 21190 bytes)",
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
    ota("esp8266_wrong_password", ESPOTA_8266, "espota", "auth_failed",
        "ESP8266 with password ota-secret; the uploader gives not-the-password; the device answers Authentication Failed; espota exits 1", port=8266),
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


def debian(tool, version, package):
    return {"tool": tool, "version": version, "source": "Debian 12 (bookworm) package %s" % package}


NMAP = debian("nmap", "Nmap 7.93", "nmap 7.93+dfsg1-1")
HTTP_PEER = "python3 -m http.server 3232 (CPython 3.11.7), the device namespace"


def anomaly(name, tool, scenario, expect, peer, **extra):
    return {"name": name, "file": "anomaly/%s.pcap" % name, "kind": "anomaly", **tool, "peer": peer,
            "scenario": scenario, "expect": expect, **extra}


def scan(proto, kind, shape, targets, hosts, ports, probes=None, tool=None, open_ports=()):
    """One scan event: `kind` how it probed (syn, udp, connect, version), `shape` what it
    covered; the scanner is the event's src_ip (and dest_ip when it probed one host)."""
    s = {"src_ip": "10.32.32.1", "proto": proto, "kind": kind, "shape": shape,
         "target_count": targets, "host_count": hosts, "ports": ports, "answered": len(open_ports)}
    if probes is not None:
        s["probes_folded"] = probes
    if tool is not None:
        s["tool"] = tool
    if open_ports:
        s["answered_targets"] = list(open_ports)
    e = {"event_type": "anomaly", "kind": "scan", "severity": "medium", "src_ip": "10.32.32.1",
         "proto": proto, "anomaly": {"reason": "scan", "scan": s}}
    if hosts == 1:
        e["dest_ip"] = "10.32.32.2"
    return [e]


def http_event(method, path, version, status, extra=None):
    h = {"method": method, "path": path, "version": version, "status": status,
         "server": "SimpleHTTP/0.6 Python/3.11.7"}
    h.update(extra or {})
    return {"event_type": "anomaly", "kind": "unexpected_tcp_service", "severity": "medium",
            "dest_ip": "10.32.32.2", "dest_port": 3232,
            "anomaly": {"reason": "unexpected_tcp_service", "protocol_guess": "http", "http": h}}


NSE_UA = "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"

ALL += [
    anomaly("nmap_syn_horizontal", NMAP,
            "nmap -sS of port 3232 on 20 addresses, none listening (each answers RST): a horizontal SYN scan with nmap's SYN fingerprint (window 1024, MSS 1460 only); 20 probes folded into one scan event",
            scan("TCP", "syn", "horizontal", 20, 20, [3232], 20, tool="nmap"), "the 20 addresses 10.32.32.2-21 of the device namespace, nothing listening"),
    anomaly("nmap_syn_vertical", NMAP,
            "nmap -sS of the three OTA ports 2040, 3232, 8266 on one host, none listening: a vertical SYN scan by nmap",
            scan("TCP", "syn", "vertical", 3, 1, [2040, 3232, 8266], 3, tool="nmap"), "10.32.32.2, nothing listening"),
    anomaly("nmap_syn_3230_3234", NMAP,
            "nmap -sS of the five ports 3230-3234 on one host where an HTTP server listens on 3232 (run with --watch-ports 3230-3234, so all five are seen): four RSTs and one SYN-ACK that nmap resets; one vertical SYN scan by nmap naming the open port",
            scan("TCP", "syn", "vertical", 5, 1, [3230, 3231, 3232, 3233, 3234], 5, tool="nmap",
                 open_ports=["10.32.32.2:3232"]),
            "python3 -m http.server 3232 (CPython 3.11.7) in the device namespace; 3230, 3231, 3233, 3234 closed",
            args=["--watch-ports", "3230,3231,3232,3233,3234"]),
    anomaly("nmap_udp_horizontal", NMAP,
            "nmap -sU of UDP port 3232 on 20 addresses, none listening (ICMP port unreachable, rate-limited by the kernel, so nmap retransmits): one horizontal UDP scan",
            scan("UDP", "udp", "horizontal", 20, 20, [3232]), "the 20 addresses 10.32.32.2-21, no UDP listener"),
    anomaly("nmap_version_http", NMAP,
            "nmap -sV of port 3232 where an HTTP server listens: the SYN probe (answered, reset), the NULL probe's wait then GenericLines, GetRequest and the NSE HTTP scripts (their User-Agent names the Nmap Scripting Engine) are one version scan of one target by nmap: one scan event with its 10 connections folded",
            scan("TCP", "version", "single", 1, 1, [3232], 10, tool="nmap", open_ports=["10.32.32.2:3232"]),
            HTTP_PEER),
    anomaly("openssl_tls", debian("openssl s_client / s_server", "OpenSSL 3.0.19", "openssl 3.0.19-1~deb12u2"),
            "TLS to port 3232: s_client with SNI c2.example.test to s_server; a TLS 1.3 handshake and one line of data",
            [{"event_type": "anomaly", "kind": "unexpected_tcp_service", "severity": "high",
              "src_ip": "10.32.32.1", "dest_ip": "10.32.32.2", "dest_port": 3232,
              "anomaly": {"reason": "unexpected_tcp_service", "protocol_guess": "tls",
                          "tls": {"sni": "c2.example.test", "version": "TLS 1.3", "server_version": "TLS 1.3"}}}],
            "openssl s_server -accept 3232 with a self-signed certificate for CN=c2.example.test (made by the script, not kept)"),
    anomaly("curl_http", debian("curl", "curl 7.88.1", "curl 7.88.1-10+deb12u15"),
            "curl GET / of an HTTP server on port 3232",
            [http_event("GET", "/", "HTTP/1.1", 200, {"host": "10.32.32.2:3232", "user_agent": "curl/7.88.1"})
             | {"src_ip": "10.32.32.1"}], HTTP_PEER),
    anomaly("socat_shell", debian("socat", "socat 1.7.4.4", "socat 1.7.4.4-2"),
            "a remote shell on port 3232 (socat EXEC:/bin/sh) used by a person: five commands (echo, uname, expr, arithmetic, exit) typed with irregular pauses of 0.9-2.6 s, each but exit answered",
            [{"event_type": "anomaly", "kind": "interactive_session", "severity": "high",
              "src_ip": "10.32.32.1", "dest_ip": "10.32.32.2", "dest_port": 3232,
              "anomaly": {"reason": "interactive_session", "protocol_guess": "text"}}],
            "socat TCP-LISTEN:3232,reuseaddr EXEC:/bin/sh,stderr in the device namespace"),
    {"name": "mdns_ota_devices", "file": "mdns/mdns_ota_devices.pcap", "kind": "mdns",
     "tool": "python-zeroconf (mDNS responder)", "version": "zeroconf 0.154.0",
     "source": "PyPI zeroconf==0.154.0, driven by testdata/real/make/mdns_announce.py",
     "peer": "none: multicast announcements on the link (224.0.0.251:5353); the announced devices are described by mdns_announce.py (no real device)",
     "scenario": "an ArduinoOTA ESP32 (_arduino._tcp, esp32-240ac4323202, port 3232, TXT board=esp32s3 auth_upload=yes) and an ESPHome device (_esphomelib._tcp, livingroom-sensor, port 6053) are registered (probe, announce), then withdrawn (goodbye, TTL 0)",
     "expect": [
         {"event_type": "device", "kind": "announcement", "src_ip": "10.32.32.2",
          "device": {"service": "_arduino._tcp", "instance": "esp32-240ac4323202", "hostname": "esp32-240ac4323202",
                     "address": "10.32.32.2", "ota_port": 3232, "port": 3232, "board": "esp32s3", "auth_upload": True,
                     "txt": {"auth_upload": "yes", "board": "esp32s3", "ssh_upload": "no", "tcp_check": "no"},
                     "mac": "24:0a:c4:32:32:02", "vendor": "Espressif Inc."}},
         {"event_type": "device", "kind": "announcement", "src_ip": "10.32.32.2",
          "device": {"service": "_esphomelib._tcp", "instance": "livingroom-sensor", "hostname": "livingroom-sensor",
                     "address": "10.32.32.2", "port": 6053, "board": "esp32dev",
                     "txt": {"board": "esp32dev", "friendly_name": "Living room sensor", "mac": "240ac4323202",
                             "network": "wifi", "platform": "ESP32", "version": "2026.6.5"}}},
     ]},
]

FRR = {"tool": "FRR pimd (with zebra)", "version": "FRR 8.4.4",
       "source": "Debian 12 (bookworm) package frr 8.4.4-1.1~deb12u2"}
ALL += [
    {"name": "frr_pim_plain", "file": "mdt/frr_pim_plain.pcap", "kind": "pim", **FRR,
     "peer": "a second FRR pimd (pe1, 10.32.33.1, the RP) in its own namespace; a host namespace on pe2's LAN joins 239.1.2.3 (kernel IGMP)",
     "scenario": "two PEs exchange PIM Hellos on their link; pe2 sends a (*,G) Join for 239.1.2.3 towards the RP when the host joins, a Prune when it leaves; both send a holdtime-0 Hello when pimd stops. Bare PIM (no GRE)"},
    {"name": "frr_pim_default_mdt_gre", "file": "mdt/frr_pim_default_mdt_gre.pcap", "kind": "pim", "run": "frr_pim_plain",
     "tool": "FRR pimd (with zebra); GRE added afterwards by testdata/real/make/gre_wrap.py",
     "version": "FRR 8.4.4", "source": FRR["source"], "peer": "as frr_pim_plain",
     "note": "the kernel where the captures were made has no GRE (ip_gre), so pimd could not run over a GRE tunnel: this is frr_pim_plain.pcap with each PIM packet wrapped, bytes and timestamps unchanged, in IPv4+GRE to the provider group 239.232.1.1 (a default MDT, RFC 6037 §2)",
     "scenario": "the PIM of frr_pim_plain in the default MDT 239.232.1.1: both PEs are found in it, and every PIM event carries the default MDT and the PE", "p_group": "239.232.1.1"},
]
