"""One Lambda execution environment, run as a host Python process by ``HostRuntimeExecutor``.

Standard library only, so any Python >= 3.11 with the function's dependencies can run it
(``LAMBDA_HOST_PYTHON``). It imports the handler once (the init phase), then serves invocations
one at a time: a JSON line per request on stdin, JSON lines back on the protocol channel.

The protocol channel is the original stdout; fd 1 is then pointed at stderr, so stray output of
the function can never corrupt it. Everything the function prints or logs through Python travels
on the channel as ``log`` messages, in order with the ``result``, so the executor knows exactly
which lines belong to which invocation, even when it kills the process for a timeout.

Messages: ``{"type": "ready"}`` once, then per request ``{"type": "log", "text": ...}``* and
``{"type": "result", "is_error": bool, "payload": str}``.

With ``LAMBDA_REQUEST_LOG=<file>`` (off by default), every AWS API call the function makes through
botocore is appended to that file as one JSON line ``{function, service, operation, region,
params}``: the IAM proof (tools/iam) evaluates each against the function's deployed policy.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, TextIO

Handler = Callable[[Any, Any], Any]
# Long string parameters (an SNS message, item attributes) are cut: IAM needs names and ARNs.
RECORDED_STRING_CHARS = 512


class Channel:
    """Line-delimited JSON messages to the executor; safe to write from several threads."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message) + "\n"
        with self._lock:
            self._stream.write(line)
            self._stream.flush()


class ChannelWriter(io.TextIOBase):
    """Replaces sys.stdout and sys.stderr: complete lines go to the executor as log messages."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._pending = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            complete, newline, rest = self._pending.rpartition("\n")
            if newline:
                self._pending = rest
                self._channel.send({"type": "log", "text": complete + "\n"})
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self._channel.send({"type": "log", "text": self._pending + "\n"})
                self._pending = ""


class LambdaContext:
    """The attributes and method of the Lambda Python context object that functions use."""

    def __init__(self, request_id: str, invoked_function_arn: str, deadline: float) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


class RequestIdFilter(logging.Filter):
    """Adds ``aws_request_id`` to records, as the Lambda Python runtime's log handler does."""

    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def install_lambda_log_handler(stream: TextIO) -> RequestIdFilter:
    """Mirror the Lambda Python runtime: one root handler in its format, root level untouched."""
    request_ids = RequestIdFilter()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            datefmt="%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.formatter.converter = time.gmtime  # type: ignore[union-attr]
    handler.addFilter(request_ids)
    logging.getLogger().addHandler(handler)
    return request_ids


def error_document(error_type: str, error: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(error),
        "errorType": error_type,
        "stackTrace": traceback.format_tb(error.__traceback__),
    }


def load_handler(spec: str) -> Handler:
    module_name, _, function_name = spec.rpartition(".")
    if not module_name:
        raise ValueError(f"Bad handler '{spec}': expected <module>.<function>")
    module = importlib.import_module(module_name)
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise AttributeError(f"Handler '{function_name}' missing on module '{module_name}'")
    return handler  # type: ignore[no-any-return]


class _MarshalError(Exception):
    """The handler returned something that is not JSON-serialisable."""


def invoke(handler: Handler, request: dict[str, Any], channel: Channel) -> None:
    timeout_s = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
    context = LambdaContext(
        request["request_id"], request["invoked_function_arn"], time.time() + timeout_s
    )
    try:
        event = json.loads(request["payload"]) if request["payload"] else {}
        result = handler(event, context)
        try:
            document = json.dumps(result)
        except (TypeError, ValueError) as error:
            raise _MarshalError(str(error)) from error
        is_error = False
    except Exception as error:  # noqa: BLE001 - every function error becomes the Lambda error document
        marshal = isinstance(error, _MarshalError)
        error_type = "Runtime.MarshalError" if marshal else type(error).__name__
        print(f"[ERROR] {error_type}: {error}", file=sys.stderr)
        traceback.print_exc()
        document, is_error = json.dumps(error_document(error_type, error)), True
    sys.stdout.flush()
    sys.stderr.flush()
    channel.send({"type": "result", "is_error": is_error, "payload": document})


def _shortened(value: Any) -> Any:
    if isinstance(value, str):
        return value[:RECORDED_STRING_CHARS]
    if isinstance(value, dict):
        return {key: _shortened(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_shortened(item) for item in value]
    return value if isinstance(value, int | float | bool) or value is None else str(value)


def record_requests(path: str) -> None:
    """Append every botocore API call of this process to ``path``, one JSON line each.

    ``provide-client-params`` fires once per call (not per retry), with the caller's parameters;
    every client of every session gets the hook, since clients are made after this runs.
    """
    import botocore.session  # noqa: PLC0415 - only with recording on; the function has botocore

    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")

    def hook(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        line = json.dumps(
            {
                "function": function,
                "service": model.service_model.service_name,
                "operation": model.name,
                "region": context.get("client_region"),
                "params": _shortened(params),
            }
        )
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, (line + "\n").encode("utf-8"))  # one write: lines never interleave
        finally:
            os.close(descriptor)

    create_client = botocore.session.Session.create_client

    def create_recording_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        client.meta.events.register("provide-client-params.*.*", hook)
        return client

    botocore.session.Session.create_client = create_recording_client  # type: ignore[method-assign]


def main() -> None:
    channel = Channel(os.fdopen(os.dup(1), "w", encoding="utf-8"))
    os.dup2(2, 1)
    writer = ChannelWriter(channel)
    sys.stdout = sys.stderr = writer  # type: ignore[assignment]
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    sys.path[0] = task_root  # replace this script's own directory
    request_ids = install_lambda_log_handler(writer)  # type: ignore[arg-type]
    if request_log := os.environ.get("LAMBDA_REQUEST_LOG"):
        record_requests(request_log)

    init_error: dict[str, Any] | None = None
    handler: Handler | None = None
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except Exception as error:  # noqa: BLE001 - reported on every invoke, like Lambda does
        traceback.print_exc()
        not_found = isinstance(error, AttributeError | ValueError)
        kind = "Runtime.HandlerNotFound" if not_found else "Runtime.ImportModuleError"
        init_error = error_document(kind, error)
    channel.send({"type": "ready"})

    for line in sys.stdin:  # EOF: the executor stopped us
        request = json.loads(line)
        request_ids.request_id = request["request_id"]
        if handler is None:
            channel.send({"type": "result", "is_error": True, "payload": json.dumps(init_error)})
        else:
            invoke(handler, request, channel)


if __name__ == "__main__":
    main()
