"""Lambda runtime executor ``host``: each execution environment is a host Python process.

Set ``LAMBDA_RUNTIME_EXECUTOR=host``. LocalStack then never needs Docker for Lambda: the function's
unzipped code runs under ``host_worker.py`` in a Python interpreter (``LAMBDA_HOST_PYTHON``, by
default LocalStack's own, which has boto3), with the environment LocalStack prepares for the
function (its variables, credentials, ``AWS_ENDPOINT_URL``, ``_HANDLER``).

The executor talks to the worker over pipes instead of LocalStack's HTTP runtime API: it sends one
request, reads log lines and the result, and enforces the function's timeout itself, like Lambda:
a function that overruns is killed, the invocation fails with ``Sandbox.Timedout`` and the next
invocation starts a fresh process. Log lines go to the LocalStack log as they arrive and, with the
START/END/REPORT lines, to the function's CloudWatch Logs group through LocalStack's log handler.
"""

from __future__ import annotations

import json
import logging
import math
import os
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localstack import config
from localstack.aws.api.lambda_ import PackageType
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

LOG = logging.getLogger(__name__)
WORKER_SCRIPT = Path(__file__).with_name("host_worker.py")
STOP_GRACE_SECONDS = 3
RECENT_OUTPUT_LINES = 200


def host_python() -> str:
    return os.environ.get("LAMBDA_HOST_PYTHON") or sys.executable


def gateway_host() -> str:
    host = config.GATEWAY_LISTEN[0].host
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - mapping a wildcard


class WorkerExitedError(Exception):
    """The worker process ended while the executor waited for it."""


class Worker:
    """One running ``host_worker.py`` process and the threads that read its pipes."""

    def __init__(self, label: str, env: dict[str, str], cwd: str) -> None:
        self.label = label
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.recent_output: deque[str] = deque(maxlen=RECENT_OUTPUT_LINES)
        # Output of the init phase, logged before the first invocation (as Lambda does).
        self.init_lines: list[str] = []
        self.process = subprocess.Popen(
            [host_python(), "-u", str(WORKER_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        threading.Thread(target=self._read_messages, name=f"{label}-out", daemon=True).start()
        threading.Thread(target=self._read_stderr, name=f"{label}-err", daemon=True).start()

    def _read_messages(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                message = json.loads(line)
            except json.JSONDecodeError:  # written before the worker took over its stdout
                message = {"type": "log", "text": line}
            if message["type"] == "log":
                self._note_output(message["text"])
            self.messages.put(message)
        self.messages.put(None)

    def _read_stderr(self) -> None:
        # Only output written below Python's sys.stdout/sys.stderr (C code, child processes).
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._note_output(line)

    def _note_output(self, text: str) -> None:
        for line in text.splitlines():
            self.recent_output.append(line)
            LOG.info("[%s] %s", self.label, line)

    def next_message(self, timeout: float) -> dict[str, Any]:
        """Raise ``queue.Empty`` on timeout, ``WorkerExitedError`` if the process ended."""
        message = self.messages.get(timeout=max(0.0, timeout))
        if message is None:
            raise WorkerExitedError(f"exit status {self.process.wait()}")
        return message

    def send(self, request: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError) as error:
            raise WorkerExitedError(f"cannot send the request: {error}") from error

    def stop(self, *, kill: bool = False) -> None:
        """Closing stdin ends an idle worker; a busy or stuck one is terminated, then killed."""
        if self.process.poll() is None and not kill:
            try:
                assert self.process.stdin is not None
                self.process.stdin.close()
                self.process.wait(STOP_GRACE_SECONDS)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.process.terminate()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


class HostRuntimeExecutor(RuntimeExecutor):
    """Runs one execution environment of a zip-packaged Python function as a host process."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self._env: dict[str, str] = {}
        self._worker: Worker | None = None
        self._lock = threading.Lock()
        self._last_output: deque[str] = deque(maxlen=RECENT_OUTPUT_LINES)

    @property
    def _function_name(self) -> str:
        return self.function_version.id.function_name

    @property
    def _code_dir(self) -> str:
        return str(self.function_version.config.code.get_unzipped_code_location())

    def start(self, env_vars: dict[str, str]) -> None:
        # Lambda's environment is not the host's: pass only what a process needs to run.
        self._env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            # A developer's ~/.aws files must not leak into the function (profiles, endpoints).
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "PYTHONDONTWRITEBYTECODE": "1",
            # Request recording for the IAM proof (host_worker.record_requests), off by default.
            **{key: os.environ[key] for key in ("LAMBDA_REQUEST_LOG",) if os.environ.get(key)},
            **{key: str(value) for key, value in env_vars.items()},
            "LAMBDA_TASK_ROOT": self._code_dir,
        }
        with self._lock:
            self._worker = self._spawn()

    def _spawn(self) -> Worker:
        worker = Worker(f"lambda {self._function_name} {self.id[:8]}", self._env, self._code_dir)
        deadline = time.monotonic() + config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT
        try:
            while (message := worker.next_message(deadline - time.monotonic()))["type"] == "log":
                worker.init_lines.extend(message["text"].splitlines())
        except (queue.Empty, WorkerExitedError) as error:
            worker.stop(kill=True)
            self._last_output.extend(worker.recent_output)
            raise LambdaRuntimeException(
                f"Host runtime of {self._function_name} did not start: {error or 'timed out'}"
            ) from error
        if message["type"] != "ready":
            worker.stop(kill=True)
            raise LambdaRuntimeException(f"Unexpected message from the worker: {message}")
        return worker

    def stop(self) -> None:
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()
            self._last_output.extend(worker.recent_output)

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        request_id = payload["invoke-id"]
        timeout = float(self.function_version.config.timeout)
        started = time.monotonic()
        lines = [f"START RequestId: {request_id} Version: {self.function_version.id.qualifier}"]
        with self._lock:
            if self._worker is None:  # the last invocation timed out or crashed: a fresh init
                self._worker = self._spawn()
            worker = self._worker
        lines[:0], worker.init_lines = worker.init_lines, []
        try:
            worker.send(
                {
                    "request_id": request_id,
                    "invoked_function_arn": payload["invoked-function-arn"],
                    "payload": payload["payload"],
                }
            )
            while True:
                message = worker.next_message(timeout=started + timeout - time.monotonic())
                if message["type"] == "result":
                    break
                lines.extend(message["text"].splitlines())
            result_payload, is_error = message["payload"], message["is_error"]
        except queue.Empty:
            self._discard(worker)
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            text = f"{stamp} {request_id} Task timed out after {timeout:.2f} seconds"
            LOG.warning("[lambda %s] %s", self._function_name, text)
            lines.append(text)
            result_payload = json.dumps({"errorType": "Sandbox.Timedout", "errorMessage": text})
            is_error = True
        except WorkerExitedError as error:
            self._discard(worker)
            text = f"RequestId: {request_id} Error: Runtime exited with error: {error}"
            lines.append(text)
            result_payload = json.dumps({"errorType": "Runtime.ExitError", "errorMessage": text})
            is_error = True
        lines.extend(self._report_lines(request_id, time.monotonic() - started))
        return InvocationResult(
            request_id=request_id,
            payload=result_payload.encode("utf-8"),
            is_error=is_error,
            logs="\n".join(lines) + "\n",
        )

    def _discard(self, worker: Worker) -> None:
        with self._lock:
            if self._worker is worker:
                self._worker = None
        worker.stop(kill=True)
        self._last_output.extend(worker.recent_output)

    def _report_lines(self, request_id: str, duration_s: float) -> list[str]:
        duration_ms = duration_s * 1000
        return [
            f"END RequestId: {request_id}",
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {math.ceil(duration_ms)} ms\t"
            f"Memory Size: {self.function_version.config.memory_size} MB",
        ]

    def get_logs(self) -> str:
        worker = self._worker
        recent = list(self._last_output) + (list(worker.recent_output) if worker else [])
        return "\n".join(recent)

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return gateway_host()

    def get_runtime_endpoint(self) -> str:
        # Part of LocalStack's environment contract; this executor uses pipes, not this endpoint.
        port = config.GATEWAY_LISTEN[0].port
        return f"http://{gateway_host()}:{port}/_localstack_lambda/{self.id}"

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        if function_version.config.package_type != PackageType.Zip:
            raise LambdaRuntimeException(
                "The host Lambda executor runs zip-packaged functions only; "
                "container images need LAMBDA_RUNTIME_EXECUTOR=docker."
            )
        function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        """Nothing to clean: the unzipped code belongs to LocalStack's code cache."""

    @classmethod
    def validate_environment(cls) -> bool:
        if not Path(host_python()).exists():
            LOG.warning("LAMBDA_HOST_PYTHON %s does not exist; Lambda cannot run", host_python())
            return False
        return True


class HostRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "host"

    def load(self, *args: Any, **kwargs: Any) -> type[RuntimeExecutor]:
        return HostRuntimeExecutor
