"""Pytest fixtures: build the llm-sim binary once and run simulators on free ports.

Environment:
  LLM_SIM_BIN       use this prebuilt binary instead of building one
  LLM_SIM_PROFILE   "debug" (default) or "release" build
  CARGO_TARGET_DIR  honoured like cargo does (relative paths are relative to the repo root)
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def _build_llm_sim() -> pathlib.Path:
    explicit = os.environ.get("LLM_SIM_BIN")
    if explicit:
        return pathlib.Path(explicit)
    profile = os.environ.get("LLM_SIM_PROFILE", "debug")
    command = ["cargo", "build", "--quiet", "-p", "llm-sim", "--bin", "llm-sim"]
    if profile == "release":
        command.append("--release")
    subprocess.run(command, cwd=REPO, check=True)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    if not target.is_absolute():
        target = REPO / target
    return target / profile / "llm-sim"


class SimProcess:
    """A running simulator and its ground-truth API."""

    def __init__(self, binary: pathlib.Path, flags: list[str]):
        self.process = subprocess.Popen(
            [str(binary), "--port", "0", *flags],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait(timeout=5)
            raise RuntimeError(f"llm-sim exited ({code}) before listening")
        listening = json.loads(line)
        assert listening["event"] == "listening", line
        self.port: int = listening["http"]
        self.https_port: int | None = listening["https"]
        self.url = f"http://127.0.0.1:{self.port}"

    def _get_json(self, path: str, method: str = "GET"):
        request = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def records(self) -> list[dict]:
        return self._get_json("/sim/requests")["requests"]

    def record(self, request_id: str) -> dict:
        """The ground truth of one request (`chatcmpl-` prefix optional)."""
        found = self._get_json(f"/sim/requests?id={request_id}")["requests"]
        assert len(found) == 1, f"no single record for {request_id}: {found}"
        return found[0]

    def clear(self) -> int:
        return self._get_json("/sim/requests", method="DELETE")["cleared"]

    def stop(self) -> int:
        """SIGTERM and wait; returns the exit code (0 on a clean shutdown)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        return self.process.returncode


@pytest.fixture(scope="session")
def llm_sim_binary() -> pathlib.Path:
    return _build_llm_sim()


@pytest.fixture
def start_llm_sim(llm_sim_binary):
    """Factory: `start_llm_sim("--ttft-ms", "50")` starts a simulator stopped after the test."""
    started: list[SimProcess] = []

    def start(*flags: str) -> SimProcess:
        sim = SimProcess(llm_sim_binary, list(flags))
        started.append(sim)
        return sim

    yield start
    codes = [sim.stop() for sim in started]
    assert all(code == 0 for code in codes), f"llm-sim exit codes {codes}"


@pytest.fixture(scope="session")
def llm_sim(llm_sim_binary):
    """A shared simulator: 20 ms to first token, 2 ms between tokens, seeded."""
    sim = SimProcess(llm_sim_binary, ["--ttft-ms", "20", "--itl-ms", "2", "--seed", "1"])
    yield sim
    assert sim.stop() == 0
