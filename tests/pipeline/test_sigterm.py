"""A run stopped with SIGTERM marks its ``.incomplete`` folder FAILED, like Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from pipeline_study import make_study

from validation.pipeline import FAILED_FILE

HERE = Path(__file__).parent

STOPPED_RUN = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from validation.cli import install_sigterm_handler
    from validation.errors import Terminated
    from validation.pipeline import run_protocol

    def wait(ctx):
        print("READY", flush=True)
        time.sleep(60)

    install_sigterm_handler()
    try:
        run_protocol(sys.argv[1], out_dir=sys.argv[2], progress=False, post_steps=[wait],
                     record_start=False)
    except Terminated:
        sys.exit(143)
""")


def test_sigterm_leaves_a_failed_incomplete_run(tmp_path: Path) -> None:
    protocol = make_study(tmp_path / "study")
    out = tmp_path / "runs"
    script = tmp_path / "stopped.py"
    script.write_text(STOPPED_RUN)
    with subprocess.Popen([sys.executable, str(script), str(protocol), str(out)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONPATH": str(HERE)}) as proc:
        try:
            deadline = time.monotonic() + 120
            line = ""
            while time.monotonic() < deadline and "READY" not in line:
                line = proc.stdout.readline() if proc.stdout else ""
                if not line and proc.poll() is not None:
                    break
            assert "READY" in line, proc.stderr.read() if proc.stderr else ""
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 143
        finally:
            if proc.poll() is None:
                proc.kill()
    (run,) = [p for p in out.glob("*/*") if p.is_dir()]
    assert run.name.endswith(".incomplete")
    failed = (run / FAILED_FILE).read_text()
    assert failed.startswith("This run failed and is not complete.\nTerminated: the process "
                             "received signal 15 (SIGTERM)")
