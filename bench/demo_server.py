"""Starting a demo server for the bench scripts: one place for the start-up lines."""
import re, subprocess, threading


def args(data, url=None):
    """The global options for a data directory (and a PostgreSQL URL, if any)."""
    return ["--data-dir", data] + (["--database-url", url] if url else [])


def start(binary, data, url=None):
    """`amparo demo` on a free port; returns the process and its base URL."""
    proc = subprocess.Popen([binary] + args(data, url) + ["demo", "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            # Keep reading its output so that the server never blocks on a full pipe.
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return proc, m.group(1)
    raise SystemExit("the server did not start")


def token(binary, data, url=None, username="caseworker"):
    """An API token for a demo user, made at the console."""
    return subprocess.run([binary] + args(data, url) + ["token", "create", "--username", username],
                          capture_output=True, text=True, check=True).stdout.split()[0]
