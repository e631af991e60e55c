"""One checker for the YAML documents that sit beside a protocol (surveillance and change plans).

It reads the file the way the protocol loader does (UTF-8, size and nesting limits, every YAML
error reported at its line and column, duplicate keys, no ``.inf``/``.nan``), validates the
document with its pydantic model, adds the document's own cross-field and file problems, and
returns every problem at once with file, line, column and field.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from validation.protocol import load as _pload
from validation.protocol.lock import ProtocolLock
from validation.protocol.vocabulary import Loc

M = TypeVar("M", bound=BaseModel)
Found = list[tuple[Loc, str]]


def check_plan_file(path: str | os.PathLike[str], model: type[M], *, top_level: str,
                    cross: Callable[[Any], Found],
                    files: Callable[[dict[str, Any], Path], Found] | None = None
                    ) -> tuple[M | None, list[_pload.Problem]]:
    """Validate the plan file ``path`` against ``model``; return it (or ``None``) and every
    problem found.

    ``top_level`` names the expected keys in the message for a document that is not a mapping;
    ``cross(data)`` gives the cross-field problems; ``files(data, folder)``, when given, the
    referenced files that do not exist (relative to the plan's folder).
    """
    p = Path(path)
    shown = os.fspath(path)

    def one(message: str, line: int | None = None, col: int | None = None
            ) -> tuple[None, list[_pload.Problem]]:
        return None, [_pload.Problem(shown, line, col, "", message)]

    if not p.is_file():
        return one(f"the plan file {'is a folder' if p.is_dir() else 'does not exist'}.")
    raw = p.read_bytes()
    if len(raw) > _pload.MAX_BYTES:
        return one(f"the file is larger than {_pload.MAX_BYTES} bytes.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return one(f"the file is not UTF-8 text ({exc.reason}).")
    from validation._yaml import yaml_limit_problem

    limit = yaml_limit_problem(text, _pload._Loader)
    if limit is not None:
        return one(f"the YAML is refused: {limit}")
    try:
        node = yaml.compose(text, Loader=_pload._Loader)
        if not isinstance(node, yaml.MappingNode):
            return one(f"the top level must be a mapping ({top_level}).", 1, 1)
        problems: list[_pload.Problem] = []
        _pload._duplicate_keys(node, (), shown, problems)
        data = _pload._Loader("").construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        return one(f"malformed YAML: {what}.", mark.line + 1 if mark else None,
                   mark.column + 1 if mark else None)
    except yaml.YAMLError as exc:  # e.g. a control character (the reader's error has no mark)
        return one(f"malformed YAML: {exc}.")
    locator = _pload._Locator(node, shown, model)
    for loc in _pload._non_finite(data, ()):
        problems.append(locator.problem(loc, "must be a finite number."))
    if problems:
        return None, _pload._dedupe(problems)
    plan: M | None = None
    try:
        plan = model.model_validate(data)
    except PydanticValidationError as exc:
        for err in exc.errors(include_url=False):
            problems.append(locator.problem_for_pydantic(err))
    for loc, msg in cross(data):
        problems.append(locator.problem(loc, msg if msg.endswith(".") else msg + "."))
    if files is not None:
        for loc, msg in files(data, p.parent):
            problems.append(locator.problem(loc, msg))
    problems = _pload._dedupe(problems)
    return (None, problems) if problems else (plan, [])


def lock_plan_file(p: Path, plan: BaseModel, sha: str, *, study_id: str, study_version: str,
                   approver: str, meaning: str, replace: bool, now: str | None, record: str,
                   amend_command: str) -> ProtocolLock:
    """Write ``<plan>.lock.json`` (the protocol lock format) for the validated ``plan`` of
    canonical sha256 ``sha``, with the typed approval of ``approver``.

    The same content again adds the approval (the same person and meaning twice is refused); a
    plan changed since locking is refused unless ``replace`` (an amendment, with a new list).
    ``record`` names the approval in messages ("signature", "approval"); ``amend_command`` is
    the command that locks an amendment.
    """
    import hashlib

    from validation._atomic import canonical_json, write_text_atomic
    from validation.errors import LockError
    from validation.protocol.lock import (
        Approval,
        _utc_now,
        check_meaning,
        lock_path_for,
        parse_approver,
        read_lock,
    )

    name, email = parse_approver(approver)
    meaning = check_meaning(meaning)
    approval = Approval(name=name, email=email, meaning=meaning, time_utc=now or _utc_now(),
                        protocol_sha256=sha)
    approvals: tuple[Approval, ...] = (approval,)
    locked_utc = approval.time_utc
    target = lock_path_for(p)
    if target.exists():
        try:
            old: ProtocolLock | None = read_lock(target)
        except LockError:
            if not replace:
                raise
            old = None
        if old is not None and old.protocol_sha256 == sha:
            if any((a.email, a.meaning) == (email, meaning) for a in old.approvals):
                raise LockError(f"{target} already holds the {record} of {email} with meaning "
                                f"{meaning!r} for this plan (sha256 {sha}).")
            approvals = (*old.approvals, approval)
            locked_utc = old.locked_utc
        elif old is not None and not replace:
            raise LockError(f"{p} changed since it was locked: the lock {target} is for plan "
                            f"sha256 {old.protocol_sha256}, the file now gives {sha}. An "
                            f"amendment must be locked explicitly (`{amend_command}`).")
    lock = ProtocolLock(protocol_file=p.name, study_id=study_id, study_version=study_version,
                        yaml_sha256=hashlib.sha256(p.read_bytes()).hexdigest(),
                        protocol_sha256=sha, protocol=plan.model_dump(mode="json"),
                        locked_utc=locked_utc, approvals=approvals)
    write_text_atomic(target, canonical_json(lock.to_dict()))
    return lock


__all__ = ["check_plan_file", "lock_plan_file"]
