"""Run a command under a pseudo-terminal (stdin, stdout and stderr are a tty), as a user's
terminal would: progress bars, colours and every other terminal-only path run."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_in_pty(args: list[str], *, timeout: float = 600.0, cwd=None, env=None) -> tuple[int, str]:
    """Run ``python -m thermoinfer ARGS`` under a pty; return (exit status, everything printed).

    The child's stdin, stdout and stderr are the pty's slave end, so ``isatty()`` is true for
    all three. Raises ``TimeoutError`` (after killing the child) if it runs past ``timeout``.
    """
    master, slave = pty.openpty()
    full_env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40",
                    PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    full_env.pop("NO_COLOR", None)
    if env:
        full_env.update(env)
    proc = subprocess.Popen([sys.executable, "-m", "thermoinfer", *args], stdin=slave,
                            stdout=slave, stderr=slave, cwd=cwd, env=full_env, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise TimeoutError(f"{args} ran past {timeout} s under a pty")
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    data = b""
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                # drain what is left
                while select.select([master], [], [], 0)[0]:
                    try:
                        data = os.read(master, 65536)
                    except OSError:
                        data = b""
                    if not data:
                        break
                    chunks.append(data)
                break
        rc = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(master)
    return rc, b"".join(chunks).decode("utf-8", errors="replace")
