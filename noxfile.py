"""nox sessions: tests (default), lint, typecheck, bench, demo, coverage_sim, docs.

Every session installs torch 2.13.0 first so that set-up takes the CPU build from local disk
rather than pulling a multi-GB CUDA build.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True

TORCH = "torch==2.13.0"


def _install(session: nox.Session, extras: str = "test") -> None:
    session.install(TORCH)
    session.install("-e", f".[{extras}]")


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """The test suite (what CI and the README run)."""
    _install(session)
    session.run("pytest", "-n", "2", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "validation", "tests", "benchmarks", "noxfile.py")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    _install(session, "dev")
    session.run("mypy", "validation")


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Benchmarks: ratios against the obvious alternative, measured in the same run."""
    _install(session)
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    _install(session)
    session.run("validation", "demo", *session.posargs)


@nox.session(python="3.11")
def coverage_sim(session: nox.Session) -> None:
    """Slow simulations (coverage of the intervals); not part of the default run."""
    _install(session)
    session.run("pytest", "-m", "slow", "--run-slow", *session.posargs)


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """Render the example protocols' SAPs as documentation."""
    _install(session)
    session.run("validation", "protocol", "sap", "protocols/demo.yaml", "--out", "runs/docs")
