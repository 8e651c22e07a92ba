"""Exercise checks, one module per lesson (``course_utils.checks.lesson04`` ...).

A check takes the student's object, tries it on many inputs against the reference
and against known mistakes, and either prints short fixed lines (the same on every
machine and seed, so nbval can compare them) or raises ``AssertionError`` with a
hint that names the likely mistake. The helpers here keep those two promises.
"""
from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import re
import sys
import tempfile
import warnings

import numpy as np


def passed(exercise: str, cases: int, *extra: str) -> None:
    """Print the fixed success lines of a check."""
    say(f"Exercise {exercise}: passed ({cases} cases checked).")
    for line in extra:
        say(line)


# While a check runs the student's code, whatever that code prints goes to a buffer
# (``hush``); only the check's verdict reaches the cell. So a correct exercise with a
# leftover debug print, a warning or a TensorFlow log line prints exactly the reference
# lines, and nbval, which compares them, gives it its points.
_VERDICT: list = []   # verdict lines held back while a check hushes the student's code, innermost last


def say(line: str) -> None:
    """Print one line of a check's verdict; inside ``hush``, once the real output is back."""
    if _VERDICT:
        _VERDICT[-1].append(line)
    else:
        print(line)


KEEP = 20_000  # characters of hidden output kept per stream: a flood is counted, not stored


class _Kept(io.StringIO):
    """A text stream that keeps the first ``KEEP`` characters and counts the lines."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def write(self, text: str) -> int:
        self.count += text.count("\n")
        room = KEEP - self.tell()
        if room > 0:
            super().write(text[:room])
        return len(text)


class Heard:
    """What the student's code printed or warned while a check ran (hidden from the cell)."""

    def __init__(self):
        self.out, self.err = _Kept(), _Kept()
        self.warnings: list = []
        self.fd_text, self.fd_count = "", 0

    def lines(self) -> list[str]:
        """The first hidden lines (printed, logged, then warned), blank ones left out."""
        text = self.out.getvalue() + self.err.getvalue() + self.fd_text
        found = [line for line in text.splitlines() if line.strip()]
        return found + [f"{w.category.__name__}: {w.message}" for w in self.warnings[:3]]

    def note(self) -> str:
        """Return a sentence for a failure message: what the code printed, shortened; '' if nothing."""
        lines = self.lines()
        if not lines:
            return ""
        count = max(self.out.count + self.err.count + self.fd_count + len(self.warnings), len(lines))
        shown = "; ".join(repr(line.strip()[:80]) for line in lines[:3])
        more = f" and {count - 3:,} more" if count > 3 else ""
        return (f"\n(While the check ran, your code printed or warned {count:,} line(s), hidden so that "
                f"only the verdict shows: {shown}{more}.)")


@contextlib.contextmanager
def hush():
    """Hide what the student's code prints while a check runs, and collect it in a ``Heard``.

    Python's ``print`` and ``sys.stderr``, warnings, ``logging`` handlers writing to the
    console (TensorFlow's and absl's among them) and, where the process has them, the
    file descriptors 1 and 2 that C++ libraries write to. The check's own verdict goes
    past it through ``say``.
    """
    heard = Heard()
    real_out, real_err = sys.stdout, sys.stderr
    consoles = {id(s) for s in (real_out, real_err, sys.__stdout__, sys.__stderr__) if s is not None}
    handlers = [h for h in (ref() for ref in getattr(logging, "_handlerList", [])) if isinstance(h, logging.StreamHandler)
                and id(getattr(h, "stream", None)) in consoles]
    _VERDICT.append([])
    saved_streams = []
    for handler in handlers:
        try:
            saved_streams.append((handler, handler.setStream(heard.err)))
        except AttributeError:  # a handler whose stream is always the current sys.stderr (logging.lastResort)
            pass
    saved_fds = _redirect_fds(real_out, real_err)
    sys.stdout, sys.stderr = heard.out, heard.err
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield heard
    finally:
        sys.stdout, sys.stderr = real_out, real_err
        heard.fd_text, heard.fd_count = _restore_fds(saved_fds)
        for handler, stream in saved_streams:
            handler.setStream(stream)
        heard.warnings = list(caught)
        held = _VERDICT.pop()
        if held and _VERDICT:
            _VERDICT[-1].extend(held)  # an enclosing hush prints them
        elif held:
            print("\n".join(held), flush=True)  # one write: the verdict is one output, as the reference's


def _redirect_fds(*streams) -> list:
    """Point file descriptors 1 and 2 at temporary files; return what restores them (nothing where impossible)."""
    saved = []
    for stream in streams:
        try:
            stream.flush()
        except (AttributeError, ValueError, OSError):
            pass
    for fd in (1, 2):
        try:
            spare = tempfile.TemporaryFile()
            kept = os.dup(fd)
            os.dup2(spare.fileno(), fd)
        except (OSError, ValueError):
            continue
        saved.append((fd, kept, spare))
    return saved


def _restore_fds(saved: list) -> tuple[str, int]:
    """Put file descriptors back; return the start of what was written to them meanwhile, and its line count."""
    text, count = "", 0
    for fd, kept, spare in saved:
        os.dup2(kept, fd)
        os.close(kept)
        size = spare.seek(0, os.SEEK_END)
        spare.seek(0)
        head = spare.read(KEEP).decode(errors="replace")
        text += head
        count += head.count("\n") + (1 if size > KEEP else 0)
        spare.close()
    return text, count


def fail(exercise: str, what: str, hint: str) -> None:
    """Raise the ``AssertionError`` a check gives on a wrong answer."""
    raise AssertionError(f"Exercise {exercise}: {what}\nHint: {hint}")


def same_actions_again(exercise: str, actions: list, again: list, hint: str) -> None:
    """Fail unless a second run, its ``agent.rng`` seeded as the first's, took the same ``actions`` (``again``).

    An answer that draws from a generator of its own (np.random, a fresh default_rng()) takes other actions where
    the draw matters; a correct one repeats exactly.
    """
    if again == actions:
        return
    k = next((i for i, (a, b) in enumerate(zip(actions, again)) if a != b), min(len(actions), len(again)))
    first, second = (x[k] if k < len(x) else "no action" for x in (actions, again))
    fail(exercise, f"two runs with agent.rng seeded alike took different actions (at step {k + 1}: {first}, then "
         f"{second})", hint)


def mean_return_reaches(exercise: str, returns, threshold: float, episodes: int, solved: str, hint: str,
                        run: str = "") -> None:
    """Check ``episodes`` evaluation returns average at least ``threshold``; print ``solved`` if so.

    ``run`` names the run in the messages (``"the 'hard' run: "``) when there are several.
    """
    wanted = f"pass the array of {episodes} returns that cu.evaluate gave, one per episode"
    if returns is None or isinstance(returns, (dict, str, bytes)) or not hasattr(returns, "__len__"):
        fail(exercise, f"{run}got {type(returns).__name__}, expected an array of {episodes} returns", wanted)
    try:
        returns = np.asarray(returns, dtype=float)
    except (TypeError, ValueError):
        fail(exercise, f"{run}got a {type(returns).__name__} that is not an array of numbers, expected an array of "
             f"{episodes} returns", wanted)
    if returns.ndim == 1 and returns.size != episodes:
        fail(exercise, f"{run}got {returns.size} returns, expected {episodes}", f"evaluate the policy on {episodes} episodes")
    if returns.shape != (episodes,):
        fail(exercise, f"{run}the returns have shape {returns.shape}, expected shape ({episodes},)",
             f"{wanted}, in a 1-D array" + (" (flatten it)" if returns.size == episodes else ""))
    if returns.mean() < threshold:
        fail(exercise, f"{run}mean return {returns.mean():.1f} over {episodes} episodes is below {threshold:g}", hint)
    say(solved)


def each_reaches(exercise: str, greedy_returns: dict, names, threshold: float, episodes: int,
                 solved: str, hint: str) -> None:
    """Check every run named in ``names`` reaches ``threshold``; ``solved`` and ``hint`` take ``{name}``."""
    from collections.abc import Mapping

    wanted = ", ".join(f"{n!r}: returns" for n in names)
    if not isinstance(greedy_returns, Mapping):
        fail(exercise, f"got {type(greedy_returns).__name__}, expected a dict with one array of returns per run",
             f"pass a dict {{{wanted}}}")
    for name in names:
        if name not in greedy_returns:
            fail(exercise, f"no returns for the {name!r} run", f"pass a dict {{{wanted}}}")
        mean_return_reaches(exercise, greedy_returns[name], threshold, episodes,
                            solved.format(name=name), hint.format(name=name), run=f"the {name!r} run: ")


def must_be_tensor(exercise: str, got, what: str, hint: str) -> None:
    """Fail when ``got`` is not a TensorFlow tensor: a NumPy value carries no gradient to the network."""
    import tensorflow as tf

    if not tf.is_tensor(got):
        fail(exercise, f"{what} is a {type(got).__name__}, not a TensorFlow tensor: no gradient can flow back "
             "through it to the network", hint)


def matches_when_compiled(exercise: str, loss_function, args, reference, hint: str, xla: bool = False) -> None:
    """Run ``loss_function(*args)`` inside ``tf.function`` with the batch size unknown, as a training
    step does (its batches change size), and compare it with ``reference(*args)``.

    Tensor arguments become the compiled function's inputs (a scalar one stays a scalar); other
    arguments (a coefficient, an object of networks) stay Python constants, as in the lesson's
    training step. ``xla=True`` compiles with XLA, as an update with ``jit_compile=True`` does
    (lesson 11's): XLA refuses what plain ``tf.function`` lets through, ``tf.print`` among it.
    """
    import tensorflow as tf

    tensors = [i for i, x in enumerate(args) if hasattr(x, "shape")]
    signature = [tf.TensorSpec([None, *args[i].shape[1:]] if len(args[i].shape) else [], args[i].dtype)
                 for i in tensors]
    where = "inside tf.function compiled by XLA" if xla else "inside tf.function"

    def with_inputs(*inputs):
        full = list(args)
        for i, x in zip(tensors, inputs):
            full[i] = x
        return loss_function(*full)

    try:
        compiled = tf.function(with_inputs, input_signature=signature, jit_compile=xla)
        got = compiled(*[tf.convert_to_tensor(args[i]) for i in tensors])
    except Exception as err:  # noqa: BLE001 - .numpy(), NumPy calls and len() fail on symbolic tensors
        what = f"it fails {where}, where the training step calls it: it {describe(err)}"
    else:
        what = None
    if what:
        fail(exercise, what, hint)
    got, want = tf.nest.flatten(got), tf.nest.flatten(reference(*args))
    if len(got) != len(want) or not all(np.allclose(np.asarray(g), np.asarray(w), atol=1e-5) for g, w in zip(got, want)):
        fail(exercise, f"{where} it gives other values than when run eagerly", hint)


def call(exercise: str, function, *args, hint: str, label: str | None = None, **kwargs):
    """Call the student's ``function(*args, **kwargs)``; an exception becomes a failure that names it, with ``hint``.

    The same rules as ``guarded``, with the function's name (or ``label``, such as
    ``"reset(seed=0)"``) in the message: an untouched stub's ``NotImplementedError`` and
    a check's own failure pass through.
    """
    try:
        return function(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - any error of the student's code becomes a hint
        if _passes_through(err):
            raise
        what = f"{label or getattr(function, '__name__', 'your function')} {describe(err)}"
    fail(exercise, what, hint)  # outside the handler: no library traceback chained before it


def guarded(exercise: str, hint: str):
    """Decorate a check so that an exception from the student's code fails it with the course's message.

    A check calls the student's code many times; when that code raises (a wrong
    unpacking, a shape error from NumPy or TensorFlow), the student should read
    "Exercise NN.k: your code raised ...", where it was raised and a hint, not a
    library traceback. An untouched stub's ``NotImplementedError`` and the check's
    own failures pass through unchanged.
    """
    def wrap(check):
        @functools.wraps(check)
        def run(*args, **kwargs):
            with hush() as heard:
                try:
                    return _own_work(exercise, check, args, kwargs)
                except AssertionError as err:
                    if not _passes_through(err):
                        what = f"your code {describe(err)}"
                    elif heard.lines():
                        what, own = None, str(err)
                    else:
                        raise
                except Exception as err:  # noqa: BLE001 - any error of the student's code becomes a hint
                    if _passes_through(err):
                        raise
                    what = f"your code {describe(err)}"
            if what is None:  # the check's own failure, with what the student's code printed
                raise AssertionError(f"{own}{heard.note()}") from None
            fail(exercise, what, f"{hint}{heard.note()}")  # outside the handler: no library traceback chained
        return run
    return wrap


def _own_work(exercise: str, check, args: tuple, kwargs: dict):
    """Run ``check``; fail it when the course's reference code stood in for the student's (see ``own_work``)."""
    from .own_work import HINT, Watch

    watch = Watch(exercise, args, kwargs)
    try:
        with watch:
            result = check(*args, **kwargs) if watch.found is None else None
    except Exception:  # noqa: BLE001 - whatever the check made of it, the reference is not the student's answer
        if watch.found is None:
            raise
    if watch.found is not None:
        if _VERDICT:
            _VERDICT[-1].clear()   # no "passed" line printed before the refusal
        fail(exercise, watch.message(), HINT)
    return result


def _passes_through(err: BaseException) -> bool:
    """True for what a check must not rewrite: a check's own failure and an untouched stub.

    A stub raises ``NotImplementedError("Exercise NN.k: write your code here")`` (or a
    bare one); NumPy called on a symbolic tensor inside ``tf.function`` raises a
    ``NotImplementedError`` too, and that one is the student's error.
    """
    if isinstance(err, AssertionError):
        return str(err).startswith("Exercise ")
    if isinstance(err, NotImplementedError):
        return not str(err) or str(err).startswith("Exercise ")
    return False


def describe(err: BaseException) -> str:
    """Return "raised Type: message (in NAME, line N)" for an error of the student's code."""
    user_code = _user_code(err)   # raised inside tf.function: its message names the traced frames
    message, where = user_code or (_tidy(err), "")
    where = where or _student_frame(err.__traceback__)
    if isinstance(err, AssertionError):
        return f"failed an assertion: {message}{where}"
    return f"raised {type(err).__name__}: {message}{where}"


@functools.lru_cache(maxsize=1)
def _library_folders() -> tuple:
    """The folders of this package and of the installed libraries: code there is not the student's."""
    import os
    import site
    import sys
    import sysconfig

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    libraries = {os.path.abspath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                              *sysconfig.get_paths().values(), *site.getsitepackages(),
                                              site.getusersitepackages()) if p}
    return (package, *sorted(libraries))


def _is_students(filename: str) -> bool:
    """True when code in ``filename`` is the student's: a notebook cell or a file of their own."""
    import os

    if filename.startswith("<"):
        return True
    if "__autograph_generated_file" in filename:  # TensorFlow's rewrite of the student's function
        return False
    path = os.path.abspath(filename)
    for folder in _library_folders():
        try:
            if os.path.commonpath([path, folder]) == folder:
                return False
        except ValueError:  # another drive on Windows
            continue
    return True


def _student_frame(tb) -> str:
    """Return ' (in NAME, line N)' for the innermost frame of the student's own code, or ''.

    The student's code is what is neither this package nor an installed library: a
    notebook cell (a kernel's temporary file, or ``<...>`` for code without a file) or
    a file of the student's own.
    """
    import traceback

    found = ""
    for frame in traceback.extract_tb(tb):
        if _is_students(frame.filename):
            found = f" (in {frame.name}, line {frame.lineno})"
    return found


_USER_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<name>\S+)')


def _user_code(err: BaseException):
    """For an error raised inside ``tf.function`` ("in user code: File ... Error: message"), return
    (the error's own message, ' (in NAME, line N)' of the student's frame); else None.

    TensorFlow puts the traced call stack first and the real message last: a message cut
    to its first characters would show only file paths.
    """
    text = str(getattr(err, "message", err))
    if not text.lstrip().startswith("in user code:"):
        return None
    lines = text.strip().splitlines()[1:]
    where, last_frame = "", 0
    for i, line in enumerate(lines):
        match = _USER_FRAME.match(line)
        if match:
            last_frame = i
            if _is_students(match["file"]):
                name = "<lambda>" if match["name"] == "None" else match["name"]   # autograph names a lambda None
                where = f" (in {name}, line {match['line']})"
    # after the last frame: its source line, a blank line, then the error "Type: message"
    tail = [line.strip() for line in lines[last_frame + 2:] if line.strip()] if lines else []
    message = " ".join(tail) or text
    message = re.sub(rf"^{re.escape(type(err).__name__)}: ", "", message)
    return _shorten(message), where


def _tidy(err: BaseException) -> str:
    """Return an exception's message on one line, without TensorFlow's op prefix, at most 200 characters."""
    user_code = _user_code(err)
    if user_code:
        return user_code[0]
    return _shorten(str(getattr(err, "message", err)))


def _shorten(message: str) -> str:
    message = re.sub(r"\{\{.*?\}\}\s*", "", message).strip()
    message = re.sub(r"\s*name:\s*$", "", message)   # eager TensorFlow ends its messages with an empty "name: "
    message = " ".join(message.split())
    return message[:200] + ("..." if len(message) > 200 else "")
