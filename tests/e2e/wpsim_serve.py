"""Starts `wpsim serve` on 127.0.0.1 (any free port) for the Python end-to-end tests and returns
the process and the connection string it prints. WPSIM_BIN names the binary (default: the build
tree's)."""
import os
import re
import subprocess
import time


def start_serve(*args):
    wpsim = os.environ.get("WPSIM_BIN") or os.path.join(
        os.path.dirname(__file__), "..", "..", "build", "bin", "wpsim")
    proc = subprocess.Popen([wpsim, "serve", "--listen", "127.0.0.1:0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        m = re.match(r"^Connection string: (.*)$", proc.stdout.readline().strip())
        if m:
            return proc, m.group(1)
    proc.kill()
    raise RuntimeError("wpsim serve printed no connection string")
