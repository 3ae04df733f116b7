"""Parse files in child interpreters (``python -m smallcode.core.graph.parse_pool``).

Plain subprocesses instead of multiprocessing: the children never re-import the parent's
``__main__`` (which breaks under scripts without a main guard and inside Ray workers) and need no
fork of a threaded process. Each child reads length-prefixed pickled job batches on stdin and
writes pickled lists of FileFacts on stdout.
"""

from __future__ import annotations

import logging
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import IO, Any

from .extract import extract_batch
from .model import FileFacts

log = logging.getLogger(__name__)

Job = tuple[str, str, str, int]
_HEADER = struct.Struct("!Q")


def _send(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError("parse worker closed its output")
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("parse worker output truncated")
    return pickle.loads(data)


class ParsePool:
    """N child parsers fed from one queue of batches; results stream back as they finish."""

    def __init__(self, workers: int):
        self.workers = max(1, workers)

    def run(self, batches: list[list[Job]]) -> Iterator[list[FileFacts]]:
        """Yield one list of FileFacts per batch, in completion order. Batches a crashed worker
        could not finish are yielded as ``[]`` placeholders never; the caller parses whatever is
        missing itself."""
        todo: queue.Queue[list[Job] | None] = queue.Queue()
        for batch in batches:
            todo.put(batch)
        results: queue.Queue[list[FileFacts] | BaseException | None] = queue.Queue()
        procs: list[subprocess.Popen[bytes]] = []
        threads: list[threading.Thread] = []
        n = min(self.workers, len(batches))
        for _ in range(n):
            todo.put(None)
        for _ in range(n):
            proc = subprocess.Popen(
                [sys.executable, "-m", "smallcode.core.graph.parse_pool"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            procs.append(proc)
            t = threading.Thread(target=self._feed, args=(proc, todo, results), daemon=True)
            threads.append(t)
            t.start()
        finished = 0
        try:
            while finished < n:
                item = results.get()
                if item is None:
                    finished += 1
                elif isinstance(item, BaseException):
                    log.warning("parse worker failed: %s", item)
                    finished += 1
                else:
                    yield item
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
                for stream in (proc.stdin, proc.stdout):
                    if stream is not None:
                        stream.close()
            for t in threads:
                t.join(timeout=5)

    @staticmethod
    def _feed(proc: subprocess.Popen[bytes], todo: queue.Queue[list[Job] | None],
              results: queue.Queue[list[FileFacts] | BaseException | None]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            while True:
                batch = todo.get()
                if batch is None:
                    _send(proc.stdin, None)
                    results.put(None)
                    return
                _send(proc.stdin, batch)
                results.put(_receive(proc.stdout))
        except BaseException as exc:  # noqa: BLE001 - broken pipe, crashed child: caller recovers
            results.put(exc)


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    while True:
        try:
            batch = _receive(stdin)
        except EOFError:
            return
        if batch is None:
            return
        _send(stdout, extract_batch(batch))


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
