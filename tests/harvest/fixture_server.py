#!/usr/bin/env python3
"""Fixture HTTP server for the harvest tests, mirroring the structure of the TechPowerUp
VGA BIOS collection: a listing page per query (links to /vgabios/<id>/<slug>), a detail
page per BIOS with a download form that POSTs the id, and robots.txt.

The `model` query parameter selects a scenario:
  ok              two BIOS entries, valid ROM downloads
  changed-markup  the listing has no BIOS links at all
  detail-changed  the detail page has no download link or form
  rate-limit      the first listing request answers 429 with Retry-After: 1
  truncated       the download announces more bytes than it sends
  not-a-rom       the download is an HTML error page with status 200
  empty           an honest "no results" page
Listens on 127.0.0.1 on a free port and prints the port on the first line of stdout.
Every request is appended to the file named by --log (one line: METHOD PATH UA).
"""
import argparse
import http.server
import socketserver
import sys
import urllib.parse

STATE = {"rate_limited": False}


def make_rom(device_id: int) -> bytes:
    """A minimal valid x86 option ROM: 0x55AA, 512-byte image, PCIR, checksum."""
    rom = bytearray(512)
    rom[0:2] = b"\x55\xAA"
    rom[2] = 1                        # init size in 512-byte units
    rom[3:6] = b"\xCB\x90\x90"        # entry: far return
    rom[0x18:0x1A] = (0x40).to_bytes(2, "little")  # PCIR offset
    p = 0x40
    rom[p:p + 4] = b"PCIR"
    rom[p + 4:p + 6] = (0x1002).to_bytes(2, "little")       # vendor
    rom[p + 6:p + 8] = device_id.to_bytes(2, "little")      # device
    rom[p + 0x0A:p + 0x0C] = (0x18).to_bytes(2, "little")   # PCIR length
    rom[p + 0x0D:p + 0x10] = bytes([0x00, 0x00, 0x03])      # class 030000
    rom[p + 0x10:p + 0x12] = (1).to_bytes(2, "little")      # image length (512 units)
    rom[p + 0x14] = 0                                        # code type x86
    rom[p + 0x15] = 0x80                                     # last image
    rom[511] = (-sum(rom[:511])) & 0xFF
    return bytes(rom)


LISTING = """<html><head><title>Video BIOS Collection | TechPowerUp</title></head><body>
<h1>Video BIOS Collection</h1>
<table class="bioses"><thead><tr><th>Brand</th><th>Model</th><th>Interface</th><th>Memory</th></tr></thead>
<tbody>{rows}</tbody></table></body></html>"""
ROW = """<tr><td>ATI</td><td><a href="/vgabios/{id}/ati-radeon-9200-{id}">ATI Radeon 9200 &amp; Co. ({id})</a></td>
<td>AGP</td><td>128 MB, DDR</td></tr>"""
DETAIL = """<html><body><h1>ATI Radeon 9200 ({id})</h1>
<table><tr><th>GPU Device Id</th><td>0x1002 0x{dev:04X}</td></tr></table>
<form method="post" action="/vgabios/{id}/ati-radeon-9200-{id}">
<input type="hidden" name="id" value="{id}">
<button type="submit" class="download">Download this BIOS</button></form></body></html>"""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def record(self):
        if self.server.log_path:
            with open(self.server.log_path, "a") as f:
                f.write(f"{self.command} {self.path} {self.headers.get('User-Agent', '')}\n")

    def send(self, status, body: bytes, ctype="text/html", extra=None, length=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def scenario_of(self, bios_id):
        return {"2001": "truncated", "3001": "not-a-rom", "4001": "detail-changed"}.get(bios_id, "ok")

    def do_GET(self):
        self.record()
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        if url.path == "/robots.txt":
            return self.send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        if url.path == "/vgabios/":
            model = q.get("model", ["ok"])[0]
            if model == "rate-limit" and not STATE["rate_limited"]:
                STATE["rate_limited"] = True
                return self.send(429, b"slow down", "text/plain", {"Retry-After": "1"})
            if model == "changed-markup":
                return self.send(200, b"<html><body><div class='new-layout'>cards here</div></body></html>")
            if model == "empty":
                return self.send(200, b"<html><body><p>No BIOS found matching your criteria.</p></body></html>")
            ids = {"truncated": ["2001"], "not-a-rom": ["3001"], "detail-changed": ["4001"]}.get(
                model, ["1001", "1002"])
            rows = "".join(ROW.format(id=i) for i in ids)
            return self.send(200, LISTING.format(rows=rows).encode())
        parts = url.path.strip("/").split("/")
        if len(parts) >= 2 and parts[0] == "vgabios" and parts[1].isdigit():
            bios_id = parts[1]
            if self.scenario_of(bios_id) == "detail-changed":
                return self.send(200, b"<html><body><h1>Radeon</h1><p>Files moved.</p></body></html>")
            return self.send(200, DETAIL.format(id=bios_id, dev=0x5960 + int(bios_id) % 16).encode())
        return self.send(404, b"not found", "text/plain")

    def do_POST(self):
        self.record()
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        parts = urllib.parse.urlparse(self.path).path.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "vgabios" or form.get("id", [""])[0] != parts[1]:
            return self.send(400, b"bad request", "text/plain")
        bios_id = parts[1]
        scenario = self.scenario_of(bios_id)
        rom = make_rom(0x5960 + int(bios_id) % 16)
        if scenario == "truncated":
            self.send(200, rom[:100], "application/octet-stream", length=len(rom))
            self.close_connection = True
            return
        if scenario == "not-a-rom":
            return self.send(200, b"<html><body>Error: download limit reached</body></html>")
        return self.send(200, rom, "application/octet-stream",
                         {"Content-Disposition": f'attachment; filename="{bios_id}.rom"'})


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", default="")
    args = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.log_path = args.log
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
