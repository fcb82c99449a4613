"""Send a real Ctrl-C (SIGINT) to a training subprocess once it has written its checkpoint."""

import os
import signal
import subprocess
import sys
import time


def interrupt_after_checkpoint(code, checkpoint, timeout=120.0, within=None):
    """Run ``python -c code``; SIGINT it 0.5 s after ``checkpoint`` appears; check it stopped on KeyboardInterrupt.

    Also checks that no half-written (``.tmp``) file is left beside the checkpoint, and, with
    ``within``, that the process ended at most that many seconds after the signal.
    """
    # Python leaves SIGINT ignored when it starts with SIGINT ignored (a job started with ``&`` by a
    # shell without job control): restore the Ctrl-C handler so the test does not depend on how it is run.
    restore = "import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
    proc = subprocess.Popen([sys.executable, "-c", restore + code], stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while not checkpoint.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert checkpoint.exists(), proc.stderr.read()
    time.sleep(0.5)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert within is None or time.monotonic() - sent <= within, f"still running {within} s after Ctrl-C"
    assert proc.returncode != 0 and b"KeyboardInterrupt" in err, err[-2000:]
    assert not [p for p in os.listdir(checkpoint.parent) if ".tmp" in p]  # no half-written file left
