#!/usr/bin/env python3
"""POST /auth/verify once for each of the first COUNT keys of FILE, from 8 keep-alive connections
(loopback; bounded by the count and by a 10 s timeout per request).

    python3 scripts/bench/verify_each.py URL FILE COUNT

Prints "verified N valid M in S s" (valid: the answer's code is VALID)."""
import http.client
import json
import sys
import threading
import time
import urllib.parse

CONNECTIONS = 8


def main() -> None:
    url, path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(path, encoding="ascii") as f:
        keys = [line.strip() for _, line in zip(range(count), f)]
    target = urllib.parse.urlsplit(url)
    lock = threading.Lock()
    tally = {"verified": 0, "valid": 0}

    def work(part: list) -> None:
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        for key in part:
            conn.request("POST", "/auth/verify", json.dumps({"apiKey": key}),
                         {"Content-Type": "application/json"})
            reply = conn.getresponse()
            body = reply.read()
            valid = reply.status == 200 and json.loads(body).get("code") == "VALID"
            with lock:
                tally["verified"] += 1
                tally["valid"] += int(valid)
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(keys[i::CONNECTIONS],)) for i in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - started
    print(f"verified {tally['verified']} valid {tally['valid']} in {took:.1f} s")


if __name__ == "__main__":
    main()
