#!/usr/bin/env python3
"""Writes testdata/real/MANIFEST.json from the captures, the run records in runs/ and the
scenario facts below.

For each capture: the file, its size and sha256, which real program made it (tool, exact version
and source, the command), what the peer was, and the EXPECTED findings. The expected findings are
derived from the scenario (what the uploader did and the device answered, known from the
simulator's options and the uploader's exit code) and from the bytes on the wire, read here with
scapy, independently of watch3232. tests/real_captures.rs compares watch3232's events with them.

usage: manifest.py   (needs python3-scapy)
"""
import hashlib
import json
import os
import re
import sys

from scapy.all import IP, TCP, UDP, rdpcap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REAL = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import scenarios  # noqa: E402

INV = re.compile(rb"^(0|100) (\d+) (\d+) ([0-9a-f]{32})\n$")


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


RETRANSMITTED = {}
HOLES = {}


def stream(pkts, src, dst):
    """In-order payload of one TCP direction (retransmissions dropped), with the frame numbers.
    Bytes seen more than once are added up in RETRANSMITTED[(src, dst)]."""
    segs = {}
    RETRANSMITTED[(src, dst)] = 0
    for i, p in pkts:
        if TCP not in p:
            continue
        if (p[IP].src, p[TCP].sport, p[IP].dst, p[TCP].dport) == src + dst and len(bytes(p[TCP].payload)):
            if p[TCP].seq in segs:
                RETRANSMITTED[(src, dst)] += len(bytes(p[TCP].payload))
            segs.setdefault(p[TCP].seq, (i, bytes(p[TCP].payload)))
    out, frames, nxt = b"", [], None
    for seq in sorted(segs):
        i, data = segs[seq]
        if nxt is not None and seq < nxt:
            data = data[nxt - seq:]
        if nxt is not None and seq > nxt:
            HOLES[(src, dst)] = True
        out += data
        frames.append((i, data))
        nxt = seq + len(segs[seq][1])
    return out, frames


def espota_facts(pkts, dev_port):
    """What an espota session put on the wire."""
    f = {"invitations": [], "challenges": [], "answers": [], "results": [], "err": None}
    for i, p in pkts:
        if UDP not in p:
            continue
        data = bytes(p[UDP].payload)
        if p[UDP].dport == dev_port:
            m = INV.match(data)
            if m:
                f["invitations"].append({
                    "frame": i, "src_ip": p[IP].src, "src_port": p[UDP].sport,
                    "command": "filesystem" if m[1] == b"100" else "flash",
                    "host_port": int(m[2]), "image_size": int(m[3]), "image_md5": m[4].decode(),
                })
            elif data.startswith(b"200 "):
                _, c, r = data.decode().split()
                f["answers"].append({"frame": i, "src_port": p[UDP].sport, "cnonce": c, "response": r})
        elif p[UDP].sport == dev_port:
            if data.startswith(b"AUTH "):
                f["challenges"].append({"frame": i, "nonce": data[5:].decode()})
            elif data in (b"OK", b"Authentication Failed"):
                f["results"].append({"frame": i, "accepted": data == b"OK"})
            elif data.startswith(b"ERR"):
                f["err"] = {"frame": i, "text": data.decode().strip()}
    # The connect-back: a SYN from the device to an invitation's host port.
    f["tcp"] = None
    ports = {inv["host_port"] for inv in f["invitations"]}
    for i, p in pkts:
        if TCP in p and p[TCP].flags == "S" and p[TCP].dport in ports:
            dev = (p[IP].src, p[TCP].sport)
            upl = (p[IP].dst, p[TCP].dport)
            image, _ = stream(pkts, upl, dev)
            replies, frames = stream(pkts, dev, upl)
            counts, text = [], b""
            for _, seg in frames:
                m = re.match(rb"^(\d*)(.*)$", seg, re.S)
                if m[1]:
                    counts.append(int(m[1]))
                text += m[2]
            f["tcp"] = {
                "device_ip": dev[0], "device_port": dev[1], "uploader_ip": upl[0],
                "uploader_port": upl[1], "image_bytes": len(image),
                "image_md5": hashlib.md5(image).hexdigest(), "first_bytes": image[:288],
                "counts": counts, "final_text": text.decode().strip() or None,
                "retransmitted": RETRANSMITTED[(upl, dev)] + RETRANSMITTED[(dev, upl)],
                "holes": bool(HOLES.get((upl, dev)) or HOLES.get((dev, upl))),
            }
            break
    return f


def firmware_of(first):
    if first[:1] == b"\xe9" and len(first) >= 288 and first[32:36] == bytes.fromhex("3254cdab"):
        cstr = lambda b: b.split(b"\0")[0].decode()  # noqa: E731
        d = first[32:]
        return {
            "image_format": "esp32", "chip": "esp32s3", "chip_id": 9,
            "project_name": cstr(d[48:80]), "version": cstr(d[16:48]),
            "idf_version": cstr(d[112:144]), "compile_date": cstr(d[96:112]),
            "compile_time": cstr(d[80:96]), "elf_sha256": d[144:176].hex(),
        }
    if first[:1] == b"\xe9":
        return {"image_format": "esp8266"}
    if first[:2] == b"\x1f\x8b":
        return {"image_format": "gzip"}
    return {"image_format": "unknown"}


def espota_expect(s, f):
    """Expected events of one espota capture: one session."""
    ev = []
    inv = f["invitations"]
    for x in inv:
        ev.append({"event_type": "arduino_ota", "kind": "invitation", "pcap_cnt": x["frame"],
                   "src_ip": x["src_ip"], "src_port": x["src_port"], "dest_port": s["device_port"],
                   "arduino_ota": {k: x[k] for k in ("command", "host_port", "image_size", "image_md5")}})
    scheme = None
    for c in f["challenges"]:
        scheme = "md5" if len(c["nonce"]) == 32 else "pbkdf2_sha256"
        ev.append({"event_type": "arduino_ota", "kind": "auth_challenge", "pcap_cnt": c["frame"],
                   "arduino_ota": {"auth_scheme": scheme, "nonce": c["nonce"]}})
    if scheme == "md5":
        ev.append({"event_type": "alert", "kind": "ota_weak_auth"})
    if f["challenges"]:
        assert len(f["answers"]) == len(f["results"]) == len(f["challenges"]), s["name"]
        for a, r in zip(f["answers"], f["results"]):
            ev.append({"event_type": "arduino_ota", "kind": "auth_result", "pcap_cnt": r["frame"],
                       "src_port": a["src_port"], "dest_port": s["device_port"],
                       "arduino_ota": {"auth_scheme": scheme, "accepted": r["accepted"],
                                       "cnonce": a["cnonce"], "response": a["response"]}})
    elif f["results"]:
        scheme = "none"
        ev.append({"event_type": "arduino_ota", "kind": "auth_result", "pcap_cnt": f["results"][0]["frame"],
                   "arduino_ota": {"auth_scheme": "none", "accepted": True}})
        ev.append({"event_type": "alert", "kind": "ota_unauthenticated"})
    t = {"outcome": s["outcome"], "invitations": len(inv), "image_size": inv[0]["image_size"],
         "image_md5": inv[0]["image_md5"], "auth_scheme": scheme,
         "auth_failures": sum(1 for r in f["results"] if not r["accepted"])}
    tcp = f["tcp"]
    top = {}
    if tcp is None:
        t.update({"bytes": 0, "acked_bytes": 0, "transfer_flow_id": None, "md5_match": None,
                  "device_message": f["err"]["text"] if f["err"] else None})
    else:
        whole = tcp["image_bytes"] == inv[0]["image_size"]
        t.update({"bytes": tcp["image_bytes"], "acked_bytes": sum(tcp["counts"]),
                  "received_md5": tcp["image_md5"],
                  "md5_match": (tcp["image_md5"] == inv[0]["image_md5"]) if whole else None,
                  "device_message": tcp["final_text"], "firmware": firmware_of(tcp["first_bytes"]),
                  "retransmitted_bytes": tcp["retransmitted"], "stream_gaps": tcp["holes"]})
        top = {"src_ip": tcp["device_ip"], "src_port": tcp["device_port"],
               "dest_ip": tcp["uploader_ip"], "dest_port": tcp["uploader_port"]}
    ev.append({"event_type": "arduino_ota", "kind": "transfer", **top, "arduino_ota": t})
    return ev


def esphome_facts(pkts, dev_port):
    syn = next(p for _, p in pkts if TCP in p and p[TCP].flags == "S" and p[TCP].dport == dev_port)
    cli, dev = (syn[IP].src, syn[TCP].sport), (syn[IP].dst, dev_port)
    c, _ = stream(pkts, cli, dev)
    d, _ = stream(pkts, dev, cli)
    f = {"uploader_ip": cli[0], "uploader_port": cli[1], "device_port": dev_port}
    assert c[:5] == bytes([0x6C, 0x26, 0xF7, 0x5C, 0x45])
    f["ota_version"] = d[1]
    f["features"] = c[5]
    ci, di = 6, 2
    if d[di] == 0x48:
        f["server_flags"] = d[di + 1]
        di += 2
    else:
        f["server_flags"] = d[di]
        di += 1
    f["compressed"] = bool(f["features"] & 1) and (f["server_flags"] == 0x46 or (d[2] == 0x48 and bool(f["server_flags"] & 1)))
    a = d[di]
    f["auth"], f["accepted"], f["nonce"], f["cnonce"], f["response"] = "none", None, None, None, None
    if a in (1, 2):
        n = 32 if a == 1 else 64
        f["auth"] = "md5" if a == 1 else "sha256"
        f["nonce"] = d[di + 1:di + 1 + n].decode()
        f["cnonce"] = c[ci:ci + n].decode()
        f["response"] = c[ci + n:ci + 2 * n].decode()
        ci += 2 * n
        di += 1 + n
        f["accepted"] = d[di] == 0x41
    elif a >= 0x80:
        f["accepted"] = False
    di += 1
    f["error_code"] = None
    if f["accepted"] is False:
        f["error_code"] = d[di - 1]
        f.update({"image_size": None, "image_md5": None, "bytes": 0})
        return f
    f["ota_type"] = None
    if d[2] == 0x48:
        f["ota_type"] = c[ci]
        ci += 1
    f["image_size"] = int.from_bytes(c[ci:ci + 4], "big")
    f["image_md5"] = c[ci + 4:ci + 36].decode()
    data = c[ci + 36:ci + 36 + f["image_size"]]
    f["bytes"] = len(data)
    f["received_md5"] = hashlib.md5(data).hexdigest()
    rest = d[di + 2:]  # after 42 43
    f["chunk_acks"] = rest.count(0x47)
    tail = rest.replace(b"\x47", b"")
    f["error_code"] = next((b for b in tail if b >= 0x80), None)
    return f


def esphome_expect(s, f):
    e = {"outcome": s["outcome"], "ota_version": f["ota_version"], "features": f["features"],
         "server_flags": f["server_flags"], "auth": f["auth"], "nonce": f["nonce"],
         "cnonce": f["cnonce"], "response": f["response"], "accepted": f["accepted"],
         "image_size": f["image_size"], "image_md5": f["image_md5"], "bytes": f["bytes"],
         "compressed": f["compressed"], "error_code": f["error_code"]}
    if f["bytes"]:
        e.update({"received_md5": f["received_md5"], "md5_match": f["received_md5"] == f["image_md5"],
                  "chunk_acks": f["chunk_acks"], "ota_type": f["ota_type"],
                  "firmware": {"image_format": "gzip" if f["compressed"] else "esp32"}})
    ev = [{"event_type": "esphome_ota", "kind": "session", "src_ip": f["uploader_ip"],
           "src_port": f["uploader_port"], "dest_port": f["device_port"], "esphome_ota": e}]
    if f["auth"] == "md5":
        ev.append({"event_type": "alert", "kind": "ota_weak_auth"})
    if f["auth"] == "none":
        ev.append({"event_type": "alert", "kind": "ota_unauthenticated"})
    return ev


def pim_expect(pkts, p_group):
    """mdt events of PIM (bare, or in GRE to p_group): a Hello when a neighbour is new, restarts
    (new Generation ID) or leaves (holdtime 0); a Join/Prune when its content changes; with GRE,
    one default_mdt event per PE at its first packet."""
    ev, hellos, joins, pes = [], {}, {}, set()
    for i, p in pkts:
        if IP not in p:
            continue
        ip = p[IP]
        if p_group:
            if ip.proto != 47 or ip.dst != p_group:
                continue
            pe = ip.src
            raw = bytes(ip.payload)[4:]  # GRE header without options
            inner = IP(raw)
        else:
            if ip.proto != 103:
                continue
            pe, inner = None, ip
        pim = bytes(inner.payload)
        ptype = pim[0] & 0x0F
        tun = {"tunnel": {"src_ip": pe, "dest_ip": p_group, "proto": "GRE", "depth": 1}} if pe else {}
        mdt = {"default_mdt": p_group, "pe": pe} if pe else {}
        if pe and pe not in pes:
            pes.add(pe)
            ev.append({"event_type": "mdt", "kind": "default_mdt", "pcap_cnt": i, **tun,
                       "mdt": {"pe": pe, "p_group": p_group, "seen_via": "pim"}})
        nb = inner.src
        if ptype == 0:
            opts, off = {}, 4
            while off + 4 <= len(pim):
                t, n = int.from_bytes(pim[off:off + 2], "big"), int.from_bytes(pim[off + 2:off + 4], "big")
                opts[t] = pim[off + 4:off + 4 + n]
                off += 4 + n
            hold = int.from_bytes(opts.get(1, b"\0\0"), "big")
            gen = int.from_bytes(opts[20], "big") if 20 in opts else None
            prev = hellos.get(nb)
            change = "new" if prev is None else "leaving" if hold == 0 else "restart" if gen != prev else None
            hellos[nb] = gen
            if change:
                ev.append({"event_type": "mdt", "kind": "pim", "pcap_cnt": i, "src_ip": nb, **tun,
                           "mdt": {"pim_type": "hello", "neighbor": nb, "change": change, **mdt,
                                   "hello": {"holdtime": hold, "generation_id": gen}}})
        elif ptype == 3:
            body = pim[4:]
            if joins.get(nb) != body:
                joins[nb] = body
                # upstream neighbour: encoded-unicast IPv4 (family 1, type 0)
                up = ".".join(str(b) for b in body[2:6])
                ngroups = body[7]
                grp = ".".join(str(b) for b in body[14:18])
                nj, np_ = int.from_bytes(body[18:20], "big"), int.from_bytes(body[20:22], "big")
                srcs = []
                for k in range(nj + np_):
                    o = 22 + 8 * k  # encoded source: family, type, flags (S W R), mask, address
                    srcs.append({"source": ".".join(str(b) for b in body[o + 4:o + 8]), "mask_len": body[o + 3],
                                 "sparse": bool(body[o + 2] & 4), "wildcard": bool(body[o + 2] & 2),
                                 "rpt": bool(body[o + 2] & 1)})
                ev.append({"event_type": "mdt", "kind": "pim", "pcap_cnt": i, "src_ip": nb, **tun,
                           "mdt": {"pim_type": "join_prune", "neighbor": nb, **mdt,
                                   "join_prune": {"upstream_neighbor": up,
                                                  "groups": [{"group": grp, "joins": srcs[:nj], "prunes": srcs[nj:]}]
                                                  if ngroups == 1 else None}}})
    return ev


def main():
    entries = []
    for s in scenarios.ALL:
        path = os.path.join(REAL, s["file"])
        if not os.path.exists(path):
            sys.exit("missing capture %s: run its make script first" % s["file"])
        e = {"file": s["file"], "size": os.path.getsize(path), "sha256": sha256(path)}
        run_path = os.path.join(HERE, "runs", s.get("run", s["name"]) + ".json")
        run = json.load(open(run_path)) if os.path.exists(run_path) else {}
        e["made_by"] = {k: v for k, v in s.items() if k in ("tool", "version", "source", "command", "peer", "note")}
        if run:
            e["made_by"]["command"] = run["command"]
            e["made_by"]["exit_code"] = run["uploader_exit"]
            for k, to in (("tool_file_sha256", "tool_file_sha256"), ("peer_command", "peer_command"),
                          ("uploader_log_tail", "tool_output_tail"), ("version", "version_reported")):
                if run.get(k) is not None:
                    e["made_by"][to] = run[k]
        e["scenario"] = s["scenario"]
        if "expect" in s:
            e["expect"] = s["expect"]
        else:
            pkts = list(enumerate(rdpcap(path), 1))
            if s["kind"] == "espota":
                e["expect"] = espota_expect(s, espota_facts(pkts, s["device_port"]))
            elif s["kind"] == "pim":
                e["expect"] = pim_expect(pkts, s.get("p_group"))
            elif s["kind"] == "esphome":
                e["expect"] = esphome_expect(s, esphome_facts(pkts, s["device_port"]))
        if "args" in s:
            e["args"] = s["args"]
        e["only_these_findings"] = s.get("only_these_findings", True)
        if "order" in s:
            e["order"] = s["order"]
        entries.append(e)
    out = {
        "about": "Reference captures of real upstream tools; see docs/testing.md. Every file is "
                 "checked against its size and sha256 by tests/real_captures.rs, then watch3232's "
                 "events are compared with `expect` (each listed event, in order per event_type and "
                 "kind, must match the listed fields; with only_these_findings, no other finding).",
        "captures": entries,
    }
    with open(os.path.join(REAL, "MANIFEST.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    total = sum(e["size"] for e in entries)
    print("MANIFEST.json: %d captures, %d bytes" % (len(entries), total))


if __name__ == "__main__":
    main()
