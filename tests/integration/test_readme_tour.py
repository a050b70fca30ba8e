"""The README's five-minute tour works as pasted into a fresh shell at the top of a checkout
after `make demo`: it starts its own `s3c local`, and leaves no server running."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def tour() -> str:
    section = README.split("## A five-minute tour", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def survivors(root: Path) -> list[int]:
    """Processes whose command line or working directory is under `root`: the tour's
    `s3c local` and its SeaweedFS (whose data folder is a temporary one under `root`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if str(root) in cmdline or cwd == str(root) or cwd.startswith(f"{root}/"):
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs /proc")
def test_the_tour_runs_as_pasted_and_stops_its_server(tmp_path):
    checkout = tmp_path / "checkout"  # the tour starts at the top of a checkout
    checkout.mkdir()
    (checkout / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    scratch = tmp_path / "tmp"  # where the tour's mktemp -d and s3c local's data go
    scratch.mkdir()
    # a fresh shell: the PATH of a login shell, without the venv that runs the tests
    bin_dir = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != bin_dir)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "VIRTUAL_ENV", "PYTEST_", "S3C_"))
    }
    env.update(PATH=path, TMPDIR=str(scratch), HOME=str(tmp_path))
    shell = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", tour()],
        cwd=checkout,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = shell.communicate(timeout=600)
        assert shell.returncode == 0, f"{out}\n{err}"
        assert '"ok": true' in out or '"ok":true' in out, out
        assert "Hello from s3-connector!" in out  # copy.txt, read back
        assert "refused without its key: exit code 2" in out
        assert '"dry_run":false' in out.replace(" ", "")
        assert '"s3:PutObject"' in out
        deadline = time.monotonic() + 30
        while survivors(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not survivors(tmp_path), "the tour left a process running"
    finally:
        if shell.poll() is None:
            os.killpg(shell.pid, signal.SIGKILL)
            shell.wait()
        for pid in survivors(tmp_path):  # only what this test started
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
