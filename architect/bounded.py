"""The symbolic analysis of an untrusted model, tried first in a forked child with time and memory limits.

`architect verify` reads its model from a file that came with the crate. `architect.safe_expr` and
`architect.model.read_model_dict` bound every expression and field before sympy sees them (literals,
exponents, degree, expanded terms, dimensions), which keeps the usual work small; but sympy's `simplify`,
series of nested functions and the like have no useful bound in the size of their input. So before the
pipeline analyses a model it read from a file, `check_analysis` runs the same analysis — the theory plan
(`verifier.plan.make_plan`, with its log view and the skewness guard's theory), the scheme, the symbolic
reference's `model.rs`, the exact laws and prices the verifier looks for, and the report's equations — in a
child made by `os.fork`, under `RLIMIT_AS` (`ANALYSIS_MEMORY_BYTES` on top of what the process already
maps) and a wall-clock limit (`ANALYSIS_TIMEOUT_S`). A child that runs out of either is killed and the model
is refused with a `UsageError` (exit status 2); one that finishes proves the analysis finishes, so the run
goes on and the pipeline repeats it where it always did (the plan, memoised, while cargo compiles).

Why a fork: it costs milliseconds, inherits the loaded modules and the model (nothing is pickled but a
one-line verdict), and a limit on the child's address space or a kill cannot harm the parent. A signal-based
timeout in the parent could not stop sympy inside C code, nor bound its memory. Where ``fork`` does not exist
(Windows), the analysis runs unguarded, with the static bounds only.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from architect.errors import UsageError

try:
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from architect.model import SdeModel

#: Wall-clock seconds the analysis of one model may take. A catalog model's takes 0.1-0.5 s and the largest
#: model the static bounds admit a few seconds; the margin is for slow machines.
ANALYSIS_TIMEOUT_S = 60.0
#: Memory the analysis may map on top of what the process already has (catalog models: tens of MiB).
ANALYSIS_MEMORY_BYTES = 2 << 30

_MESSAGE_BYTES = 4096
_OUT_OF_MEMORY = (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS)


def check_analysis(model: SdeModel, what: str) -> None:
    """Raise `UsageError` unless ``model``'s symbolic analysis finishes within the limits (``what``: the
    model's origin, for the message)."""
    _import_analysis()
    verdict = run_bounded(lambda: analyse(model), timeout=ANALYSIS_TIMEOUT_S, memory=ANALYSIS_MEMORY_BYTES)
    if verdict == "ok":
        return
    if verdict == "timeout":
        why = f"did not finish within {ANALYSIS_TIMEOUT_S:.0f} s"
    elif verdict == "memory":
        why = f"needed more than {ANALYSIS_MEMORY_BYTES >> 20} MiB of memory"
    elif verdict == "recursion":
        why = "nests expressions too deeply"
    else:
        why = f"failed ({verdict})"
    raise UsageError(
        f"{what}: the symbolic analysis of this model {why} and was stopped; "
        "a model file must describe a model of ordinary size"
    )


def analyse(model: SdeModel) -> None:
    """The symbolic work the pipeline does on a model, from its theory plan to its report's equations."""
    import sympy as sp

    from architect import codegen
    from architect.verifier.distribution import exact_laws
    from architect.verifier.plan import make_plan
    from architect.verifier.prices import price_specs

    codegen.fixed_files(model)
    plan = make_plan(model)
    _ = plan.guard
    if plan.transformed is not None:
        _ = plan.transformed.guard
    codegen.render_model_rs(model, codegen.choose_scheme(model))
    if plan.numeric is not None:
        exact_laws(plan.numeric, 1.0)
        price_specs(plan.numeric, 1.0)
    if plan.log_numeric is not None and plan.transformed is not None:
        price_specs(plan.log_numeric, 1.0, plan.transformed.logged)
    model.describe()
    for expr in (*model.drift, *(e for row in model.diffusion for e in row), *model.covariance()):
        sp.latex(expr)


def _import_analysis() -> None:
    """Load the modules of `analyse` (about 0.7 s, scipy.stats mostly) here, before the fork: the pipeline
    needs them later anyway, and the child then spends its time on the analysis only (0.1-0.3 s)."""
    for name in ("architect.verifier.plan", "architect.verifier.distribution", "architect.verifier.prices"):
        importlib.import_module(name)


def run_bounded(work: Callable[[], object], *, timeout: float, memory: int) -> str:
    """Run ``work`` in a forked child limited to ``timeout`` seconds and ``memory`` more bytes of address
    space. Returns "ok", "timeout", "memory", "recursion" or a one-line description of another failure."""
    if not hasattr(os, "fork") or resource is None:  # pragma: no cover - Windows
        work()
        return "ok"
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        code = 0
        try:
            os.close(read_end)
            _limit_memory(memory)
            os.write(write_end, _verdict(work).encode("utf-8", "replace")[:_MESSAGE_BYTES])
        except BaseException:  # nothing may escape a forked child
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    message = None
    try:
        message = _read_until(read_end, time.monotonic() + timeout)
    finally:
        os.close(read_end)
        if message is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if message is None:
        return "timeout"
    if message:
        return message
    # Ended before it could say anything: killed by the kernel's OOM killer, or a failed allocation in C code.
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) in _OUT_OF_MEMORY:
        return "memory"
    return f"the analysis ended with status {status}"


def _verdict(work: Callable[[], object]) -> str:
    try:
        work()
    except MemoryError:
        return "memory"
    except RecursionError:
        return "recursion"
    except Exception:  # the pipeline meets (and reports) the same exception itself
        return "ok"
    return "ok"


def _read_until(fd: int, deadline: float) -> str | None:
    """Everything the child writes to ``fd`` until it closes it, or None past ``deadline``."""
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, _MESSAGE_BYTES)
            if not chunk:
                return b"".join(chunks).decode("utf-8", "replace")
            chunks.append(chunk)


def _limit_memory(extra: int) -> None:
    """Limit the address space to what is mapped now plus ``extra`` bytes (never above the hard limit)."""
    mapped = _mapped_bytes()
    if mapped is None:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = mapped + extra
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft != resource.RLIM_INFINITY:
        wanted = min(wanted, soft)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


def _mapped_bytes() -> int | None:
    """The process's virtual memory size (Linux: /proc/self/status), or None where it cannot be read."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None
