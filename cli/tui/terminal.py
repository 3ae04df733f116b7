"""Running the app so the terminal is always given back: termios modes saved before and
restored after (also after a crash), mouse reporting and bracketed paste switched off, the
cursor shown again."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

# Leave the alternate screen, show the cursor, stop mouse reporting, bracketed paste and
# focus events. Harmless when the terminal is already in these states.
RESET_SEQUENCE = ("\x1b[?1049l\x1b[?25h\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l"
                  "\x1b[?1015l\x1b[?2004l\x1b[?1004l")


@contextlib.contextmanager
def restored_terminal(fd: int | None = None) -> Iterator[None]:
    """Save the tty modes of ``fd`` (stdin by default), restore them on the way out whatever
    happened inside, and write :data:`RESET_SEQUENCE` when something went wrong."""
    if fd is None:
        try:
            fd = sys.stdin.fileno()
        except (OSError, ValueError, AttributeError):
            fd = -1
    saved: Any = None
    if fd >= 0 and os.isatty(fd):
        import termios

        with contextlib.suppress(termios.error):
            saved = termios.tcgetattr(fd)
    failed = True
    try:
        yield
        failed = False
    finally:
        if saved is not None:
            import termios

            with contextlib.suppress(termios.error):
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        if failed and fd >= 0 and os.isatty(fd):
            with contextlib.suppress(OSError):
                os.write(fd if os.isatty(1) is False else 1, RESET_SEQUENCE.encode())
