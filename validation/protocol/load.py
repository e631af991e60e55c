"""Loading a protocol from YAML, with every problem reported at once and by line.

The YAML is composed into a node tree first (:func:`yaml.compose`), which keeps the line and
column of every key and value; the tree is then constructed into plain Python data and
validated by the pydantic model. Each pydantic error location (``('endpoints', 0, 'ci')``) is
mapped back to its node, so a message reads::

    protocols/x.yaml:23:9: endpoints[0].ci: 'ci' must be one of wilson, ... ; got 'wilsn'.

Nothing stops at the first problem: malformed YAML aside (which has no tree to check), the
file's type errors, unknown keys (with a did-you-mean), cross-field problems and missing
referenced files are all collected and raised together as one
:class:`~validation.errors.ProtocolError`.
"""

from __future__ import annotations

import os
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from validation._resources import data_spec_dir
from validation.errors import ProtocolError, did_you_mean
from validation.protocol.checks import cross_field_problems
from validation.protocol.model import Protocol
from validation.protocol.vocabulary import Loc, format_loc

MAX_BYTES = 5_000_000


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of a protocol file: where it is and what is wrong."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f" {self.path}:" if self.path else ""
        return f"{where}:{field} {self.message}"


class _Loader(yaml.SafeLoader):
    """Safe loader that keeps dates and times as strings (a protocol has no date fields)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# --------------------------------------------------------------------------------------------
# public API


def load_protocol(path: str | os.PathLike[str], *, check_files: bool = True) -> Protocol:
    """Load, validate and return the protocol in the YAML file ``path``.

    Parameters
    ----------
    path : path-like
        The protocol file. Paths inside it are relative to its folder.
    check_files : bool, default True
        Also check that the files it references (model artifact, card, manifest, images root,
        reader ratings, data specifications) exist. Turn off only for a template whose data is
        generated later (the demo protocol).

    Returns
    -------
    Protocol
        The validated protocol (defaults filled in: interval methods, populations, ...).

    Raises
    ------
    ProtocolError
        With ``problems`` listing every problem found, each naming file, line, column and field.
    """
    protocol, problems = check_protocol(path, check_files=check_files)
    if problems or protocol is None:
        raise ProtocolError(
            f"protocol {_display(path)} has {len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}:",
            [str(p) for p in problems],
        )
    return protocol


def check_protocol(
    path: str | os.PathLike[str], *, check_files: bool = True
) -> tuple[Protocol | None, list[Problem]]:
    """Validate the protocol file ``path``; return it (or ``None``) and every problem found."""
    p = Path(path)
    shown = _display(path)
    if not p.is_file():
        from validation.preflight import why_not_a_file

        what = why_not_a_file(p)
        return None, [Problem(shown, None, None, "", f"the protocol file {what}.")]
    raw = p.read_bytes()
    if len(raw) > MAX_BYTES:
        return None, [Problem(shown, None, None, "", f"the file is larger than {MAX_BYTES} bytes.")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(shown, None, None, "", f"the file is not UTF-8 text ({exc.reason}).")]
    return validate_text(text, file=shown, base_dir=p.parent, check_files=check_files)


def validate_text(
    text: str,
    *,
    file: str = "<protocol>",
    base_dir: str | os.PathLike[str] | None = None,
    check_files: bool = True,
) -> tuple[Protocol | None, list[Problem]]:
    """Validate protocol YAML ``text``; ``base_dir`` resolves its relative paths."""
    from validation._yaml import yaml_limit_problem

    limit = yaml_limit_problem(text, _Loader)
    if limit is not None:
        return None, [Problem(file, None, None, "", f"the YAML is refused: {limit}")]
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        return None, [Problem(file, line, col, "", f"malformed YAML: {what}.")]
    except yaml.YAMLError as exc:  # pragma: no cover - other reader errors (e.g. bad characters)
        return None, [Problem(file, None, None, "", f"malformed YAML: {exc}.")]
    if node is None:
        return None, [Problem(file, 1, 1, "", "the file is empty; expected a protocol mapping.")]
    if not isinstance(node, yaml.MappingNode):
        return None, [
            Problem(
                file,
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                "",
                "the top level must be a mapping of sections (study, device, model, ...); "
                f"got a {_node_kind(node)}.",
            )
        ]
    problems: list[Problem] = []
    _duplicate_keys(node, (), file, problems)
    try:
        data = _Loader("").construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return None, [Problem(file, line, None, "", f"malformed YAML: {exc}.")]

    locator = _Locator(node, file)
    non_finite = list(_non_finite(data, ()))
    for loc in non_finite:
        problems.append(locator.problem(
            loc, "must be a finite number; .inf and .nan have no place in a protocol."))
    if non_finite:  # the model would turn some of them into misleading messages
        return None, _dedupe(problems)
    try:
        Protocol.model_validate(data, context={"skip_cross_checks": True})
    except PydanticValidationError as exc:
        for err in exc.errors(include_url=False):
            problems.append(locator.problem_for_pydantic(err))
    for loc, msg in cross_field_problems(data):
        problems.append(locator.problem(loc, msg))
    if check_files and base_dir is not None:
        for loc, msg in _file_problems(data, Path(base_dir)):
            problems.append(locator.problem(loc, msg))
        from validation.protocol.robustness import card_problems

        for loc, msg in card_problems(data, Path(base_dir)):
            problems.append(locator.problem(loc, msg))

    problems = _dedupe(problems)
    if problems:
        return None, problems
    return Protocol.model_validate(data), []


def _non_finite(data: Any, loc: tuple[Any, ...]) -> Any:
    """Locations of .inf and .nan anywhere in the loaded YAML."""
    import math

    if isinstance(data, float) and not math.isfinite(data):
        yield loc
    elif isinstance(data, dict):
        for k, v in data.items():
            yield from _non_finite(v, (*loc, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _non_finite(v, (*loc, i))


# --------------------------------------------------------------------------------------------
# locating problems in the YAML node tree


class _Locator:
    """Places a problem at its file:line:column; allowed keys and field descriptions come
    from ``model`` (the protocol, or another document's pydantic model)."""

    def __init__(self, root: yaml.Node, file: str, model: type[BaseModel] | None = None) -> None:
        self.root = root
        self.file = file
        self.model: type[BaseModel] = Protocol if model is None else model

    def find(self, loc: Loc) -> tuple[yaml.Node, yaml.Node | None, int]:
        """Walk ``loc``; return (deepest node, its key node if any, elements resolved)."""
        node: yaml.Node = self.root
        key_node: yaml.Node | None = None
        used = 0
        for part in loc:
            nxt = None
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == part:
                        nxt, key_node = v, k
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if 0 <= part < len(node.value):
                    nxt, key_node = node.value[part], None
            if nxt is None:
                break
            node = nxt
            used += 1
        return node, key_node, used

    def problem(self, loc: Loc, message: str, *, at_key: bool = False) -> Problem:
        node, key_node, used = self.find(loc)
        mark_node = key_node if (at_key and key_node is not None and used == len(loc)) else node
        mark = mark_node.start_mark
        return Problem(self.file, mark.line + 1, mark.column + 1, format_loc(loc), message)

    def problem_for_pydantic(self, err: Any) -> Problem:
        loc: Loc = tuple(err["loc"])
        etype = err["type"]
        node, key_node, used = self.find(loc)
        if etype == "missing":
            shown = loc[: used + 1]
            parent = node
            mark = parent.start_mark
            key = loc[used] if used < len(loc) else loc[-1]
            desc = _describe_field(loc[:used], str(key), self.model)
            hint = f" ({desc})" if desc else ""
            return Problem(
                self.file,
                mark.line + 1,
                mark.column + 1,
                format_loc(shown),
                f"required key {key!r} is missing{hint}.",
            )
        if etype == "extra_forbidden":
            key = loc[-1]
            allowed = _allowed_keys(loc[:-1], self.model)
            hint = did_you_mean(str(key), allowed)
            mark = (key_node if key_node is not None and used == len(loc) else node).start_mark
            return Problem(
                self.file,
                mark.line + 1,
                mark.column + 1,
                format_loc(loc),
                f"unknown key {key!r}.{hint} Allowed here: {', '.join(allowed)}.",
            )
        shown_loc = loc[:used] if used < len(loc) else loc
        mark = node.start_mark
        return Problem(
            self.file, mark.line + 1, mark.column + 1, format_loc(shown_loc),
            _message(err, loc, raw=node.value if isinstance(node, yaml.ScalarNode)
                     and node.style is None and used == len(loc) else None),
        )


def _message(err: Any, loc: Loc, raw: str | None = None) -> str:
    etype = err["type"]
    value = err.get("input")
    msg = str(err["msg"])
    ctx = err.get("ctx") or {}
    name = next((p for p in reversed(loc) if isinstance(p, str) and p.isidentifier()), "value")
    if loc and isinstance(loc[-1], int):  # an item of a list: name it with its index
        name = f"{name}[{loc[-1]}]"
    if etype in ("value_error", "assertion_error"):
        msg = re.sub(r"^(Value|Assertion) error, ", "", msg)
        return msg if msg.endswith((".", "?")) else msg + "."
    if etype == "literal_error":
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = did_you_mean(str(value), allowed)
        return f"'{name}' must be one of {', '.join(allowed)}; got {value!r}.{hint}"
    if etype == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        if "0-9a-f" in pattern and "64" in pattern:
            want = "64 lowercase hexadecimal digits (a SHA-256, e.g. from `sha256sum`)"
        elif "A-Za-z0-9._-" in pattern:
            want = "an identifier: letters, digits, '.', '_' or '-', starting with a letter/digit"
        else:
            want = f"text matching {pattern}"
        return f"'{name}' must be {want}; got {value!r}."
    if etype in ("model_type", "model_attributes_type", "dict_type"):
        return (
            f"'{name}' must be a mapping (indented 'key: value' lines or {{key: value}}); "
            f"got {value!r}."
        )
    if etype == "list_type":
        return f"'{name}' must be a list ('- item' lines or [a, b]); got {value!r}."
    if etype == "string_type" and isinstance(value, (int, float, bool)) and raw is not None \
            and raw != str(value):
        # 0000...0 (a SHA-256 of zeros) or 1e3: YAML turned the written text into a number
        return (f"'{name}' must be text; got {raw!r}, which YAML reads as the number {value!r} "
                f"when unquoted. Quote the whole value, e.g. \"{raw}\".")
    if etype == "string_type" and isinstance(value, (int, float, bool)):
        return f"'{name}' must be text; got {value!r}. Quote it in YAML, e.g. \"{value}\"."
    if etype in ("float_type", "int_type") and isinstance(value, str):
        hint = ""
        try:
            number: float | None = float(value)
            hint = " Write it without quotes."
        except ValueError:
            number = None
        if number is not None and re.fullmatch(r"[+-]?\d+(\.\d*)?[eE][+-]?\d+", value.strip()):
            # YAML 1.1 reads 1e-3 (no dot in the mantissa) and 1.0e12 (no sign) as text
            import numpy as np

            plain = 1e-6 <= abs(number) < 1e16 or number == 0
            write = (np.format_float_positional(number, trim="-") if plain
                     else f"{number:.1e}")
            hint = (f" YAML reads {value} as text (an exponent needs a dot in the mantissa and "
                    f"a sign, as in {number:.1e}); write {write}.")
        elif isinstance(value, bool) or value.lower() in ("yes", "no", "true", "false", "on", "off"):
            hint = ""
        what = "a number" if etype == "float_type" else "a whole number"
        return f"'{name}' must be {what}; got the text {value!r}.{hint}"
    if etype == "int_type" and isinstance(value, float):
        return f"'{name}' must be a whole number; got {value!r} (write {value:.0f})." \
            if value.is_integer() else f"'{name}' must be a whole number; got {value!r}."
    if etype in ("float_type", "int_type") and isinstance(value, bool):
        what = "a number" if etype == "float_type" else "a whole number"
        return (f"'{name}' must be {what}; got {value!r} (YAML reads yes/no/true/false as a "
                f"boolean).")
    if etype.endswith("_type") or etype.endswith("_parsing"):
        return f"'{name}': {msg[0].lower() + msg[1:]}; got {value!r}."
    return f"'{name}': {msg[0].lower() + msg[1:]}; got {value!r}."


def _duplicate_keys(node: yaml.Node, loc: Loc, file: str, out: list[Problem]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                if k.value in seen:
                    out.append(
                        Problem(
                            file,
                            k.start_mark.line + 1,
                            k.start_mark.column + 1,
                            format_loc((*loc, k.value)),
                            f"key {k.value!r} appears twice in this mapping (first on line "
                            f"{seen[k.value]}); YAML would silently keep only the last.",
                        )
                    )
                else:
                    seen[k.value] = k.start_mark.line + 1
                _duplicate_keys(v, (*loc, k.value), file, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _duplicate_keys(v, (*loc, i), file, out)


def _node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "list"
    return f"single value {node.value!r}" if isinstance(node, yaml.ScalarNode) else "value"


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen = set()
    out = []
    for p in problems:
        key = (p.line, p.column, p.path, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return sorted(out, key=lambda p: (p.line or 0, p.column or 0))


# --------------------------------------------------------------------------------------------
# the model class at a location (for allowed keys and did-you-mean)


def _model_at(loc: Loc, model: type[BaseModel] | None = None) -> type[BaseModel] | None:
    annotation: Any = Protocol if model is None else model
    for part in loc:
        cls, inner = _unwrap(annotation)
        if cls is not None:
            if not isinstance(part, str) or part not in cls.model_fields:
                return None
            annotation = cls.model_fields[part].annotation
        elif inner is not None:
            annotation = inner  # a list index or a dict key
        else:
            return None
    cls, _ = _unwrap(annotation)
    return cls


def _unwrap(annotation: Any) -> tuple[Any, Any]:
    """(model, None) for a model class; (None, inner) for list/dict; else (None, None)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if arg is type(None):
                continue
            c, p = _unwrap(arg)
            if c is not None or p is not None:
                return c, p
        return None, None
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (list, tuple):
        return None, typing.get_args(annotation)[0]
    if origin is dict:
        return None, typing.get_args(annotation)[1]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, None
    return None, None


def _allowed_keys(loc: Loc, model: type[BaseModel] | None = None) -> list[str]:
    cls = _model_at(loc, model)
    return list(cls.model_fields) if cls is not None else []


def _describe_field(loc: Loc, key: str, model: type[BaseModel] | None = None) -> str:
    cls = _model_at(loc, model)
    if cls is None or key not in cls.model_fields:
        return ""
    desc = cls.model_fields[key].description
    return desc.rstrip(".") if desc else ""


# --------------------------------------------------------------------------------------------
# referenced files


def resolve_data_spec(name: str, base_dir: Path) -> Path:
    """A ``data_spec`` value as a file: a name in data_specs/, or a .yaml path (relative)."""
    if name.endswith((".yaml", ".yml")) or "/" in name:
        return base_dir / name
    return data_spec_dir() / f"{name}.yaml"


def _file_problems(data: Any, base: Path) -> list[tuple[Loc, str]]:
    out: list[tuple[Loc, str]] = []
    if not isinstance(data, dict):
        return out
    wanted: list[tuple[Loc, str]] = [
        (("model", "artifact"), "file"),
        (("model", "card"), "file"),
        (("test_set", "manifest"), "file"),
        (("test_set", "images_root"), "dir"),
        (("reader_study", "ratings"), "file"),
        (("segmentation", "masks_index"), "file"),
        (("segmentation", "masks_root"), "dir"),
        (("segmentation", "measurements"), "file"),
        (("localization", "marks"), "file"),
        (("localization", "lesions"), "file"),
        (("localization", "algorithm_marks"), "file"),
    ]
    for loc, kind in wanted:
        section = data.get(str(loc[0]))
        if not isinstance(section, dict):
            continue
        value = section.get(str(loc[1]))
        if not isinstance(value, str) or not value.strip():
            continue
        rel = Path(value)
        if rel.is_absolute() or re.match(r"^[A-Za-z]:[\\/]", value):
            out.append(
                (
                    loc,
                    f"'{loc[-1]}' must be a path relative to the protocol's folder (so the "
                    f"protocol and its data move together); got the absolute path {value!r}.",
                )
            )
            continue
        target = base / rel
        if kind == "file" and not target.is_file():
            what = "is a folder, not a file" if target.is_dir() else "does not exist"
            out.append(
                (loc, f"'{loc[-1]}' {value!r} {what} (looked for it relative to the protocol's "
                      f"folder).")
            )
        elif kind == "dir" and not target.is_dir():
            out.append(
                (loc, f"'{loc[-1]}' {value!r} is not a folder (looked for it relative to the "
                      f"protocol's folder).")
            )
    for section_name in ("test_set", "reader_study"):
        section = data.get(section_name)
        if not isinstance(section, dict):
            continue
        default = "test_set_manifest" if section_name == "test_set" else "reader_ratings"
        name = section.get("data_spec", default)
        if not isinstance(name, str) or not name.strip():
            continue
        spec = resolve_data_spec(name, base)
        if not spec.is_file():
            spec_dir = data_spec_dir()
            names = sorted(p.stem for p in spec_dir.glob("*.yaml")) if spec_dir.is_dir() else []
            out.append(
                (
                    (section_name, "data_spec"),
                    f"'data_spec' must name a table specification in data_specs/ "
                    f"({', '.join(names) or 'none found'}) or a .yaml file beside the "
                    f"protocol; got {name!r}.{did_you_mean(name, names)}",
                )
            )
    return out


def _display(path: str | os.PathLike[str]) -> str:
    """The path as the user gave it (relative stays relative)."""
    return os.fspath(path)
