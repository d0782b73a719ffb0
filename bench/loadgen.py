"""A load generator for the complaint form, run by bench/form_server.py as its own process.

    python bench/loadgen.py --port 8123 --clients 16 --submissions 400 [--file photo.jpg]

Each client is a thread with its own cookie and its own http.client connection (kept alive
when the server allows it; gunicorn's sync workers close after every response, and the
connection is then opened again). One submission is what a browser does:

    GET  /complaint          the form: CSRF token, signed start time, session cookie
    POST /complaint          multipart, the answers (+ the file)      -> 303 /complaint/review
    GET  /complaint/review   the review page: the send form's CSRF token
    POST /complaint/send     the token, the draft's id and digest    -> 303 /complaint/sent

The send step is when the complaint is spooled (the accept latency). Prints one JSON object:
latencies in seconds per step, errors, submissions and elapsed time. Bounded by a number of
submissions and a time cap; talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from helpers import VALID_COMPLAINT, multipart, send_form_fields  # noqa: E402

ANSWERS = {**VALID_COMPLAINT,
           "description": "本月第3座兩部升降機經常停用，住戶要走樓梯。長者上落不便，已多次反映。"}
HIDDEN = re.compile(r'<input id="(csrf_token|form_started)" name="\1" type="hidden" '
                    r'value="([^"]+)"')
STEPS = ("GET /complaint", "POST /complaint", "GET /complaint/review", "POST /complaint/send")


class Client:
    def __init__(self, port: int, timeout: float):
        self.port, self.timeout = port, timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str | None = None) -> tuple[int, dict, bytes, float]:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            start = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # a kept-alive connection the server had closed: once more on a new one
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=self.timeout)
                if attempt == 2:
                    raise
        elapsed = time.perf_counter() - start
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.will_close:
            self.conn.close()
        return response.status, dict(response.headers), data, elapsed


def submit(client: Client, files: list, record: dict) -> None:
    client.cookies.clear()
    status, _, page, t = client.request("GET", "/complaint")
    if status != 200:
        raise RuntimeError(f"GET /complaint: {status}")
    record["GET /complaint"] = t
    hidden = dict(HIDDEN.findall(page.decode()))
    body, ctype = multipart({**ANSWERS, **hidden}, files)
    status, headers, data, t = client.request("POST", "/complaint", body, ctype)
    if status != 303 or not headers.get("Location", "").endswith("/complaint/review"):
        raise RuntimeError(f"POST /complaint: {status} {data[:300]!r}")
    record["POST /complaint"] = t
    status, _, page, t = client.request("GET", "/complaint/review")
    if status != 200:
        raise RuntimeError(f"GET /complaint/review: {status}")
    record["GET /complaint/review"] = t
    send = send_form_fields(page.decode())  # the token, and the draft it reviewed
    if not send:
        raise RuntimeError("no send form on the review page")
    status, headers, data, t = client.request(
        "POST", "/complaint/send", urlencode(send).encode(), "application/x-www-form-urlencoded")
    if status != 303 or not headers.get("Location", "").endswith("/complaint/sent"):
        raise RuntimeError(f"POST /complaint/send: {status} {data[:300]!r}")
    record["POST /complaint/send"] = t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--submissions", type=int, default=400)
    parser.add_argument("--time-cap", type=float, default=120)
    parser.add_argument("--warmup", type=int, default=0, help="submissions not counted")
    parser.add_argument("--file", type=Path, action="append", default=[])
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()
    files = [("evidence", f.name, "image/jpeg" if f.suffix == ".jpg" else
              "application/octet-stream", f.read_bytes()) for f in args.file]

    lock = threading.Lock()
    state = {"next": 0, "errors": [], "done": []}
    total = args.warmup + args.submissions
    started = time.perf_counter()
    deadline = started + args.time_cap
    measure_from = [None]

    def worker():
        client = Client(args.port, args.timeout)
        while time.perf_counter() < deadline:
            with lock:
                ticket = state["next"]
                if ticket >= total:
                    return
                state["next"] += 1
                if ticket == args.warmup and measure_from[0] is None:
                    measure_from[0] = time.perf_counter()
            record: dict = {}
            begin = time.perf_counter()
            try:
                submit(client, files, record)
            except Exception as error:  # noqa: BLE001 - counted and reported, not fatal
                with lock:
                    state["errors"].append(f"{type(error).__name__}: {error}"[:300])
                client.conn.close()
                continue
            record["flow"] = time.perf_counter() - begin
            if ticket >= args.warmup:
                with lock:
                    state["done"].append(record)

    threads = [threading.Thread(target=worker) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - (measure_from[0] or started)
    latencies = {step: [r[step] for r in state["done"]] for step in (*STEPS, "flow")}
    print(json.dumps({"submissions": len(state["done"]), "elapsed": elapsed,
                      "errors": len(state["errors"]), "error_samples": state["errors"][:5],
                      "capped": time.perf_counter() >= deadline, "latencies": latencies}))


if __name__ == "__main__":
    main()
