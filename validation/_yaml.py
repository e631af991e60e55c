"""YAML reading with bounded alias expansion and nesting depth.

PyYAML shares an aliased node rather than copying it, but every reader that walks the loaded
data (duplicate-key checks, pydantic validation, hashing) visits each alias again: ten levels of
anchors each used ten times (a "billion laughs" file of 1 KB) mean 10**10 visits. Deep nesting
(``[[[[...]]]]``) overflows the recursive composer. :func:`yaml_limit_problem` reads the event
stream once (no recursion, no construction) and measures both before any loader builds a tree.
"""

from __future__ import annotations

from typing import Any

import yaml

#: Most values (scalars, lists, mappings) a file may hold once every alias is expanded.
MAX_EXPANDED_NODES = 100_000
#: Deepest nesting of lists and mappings.
MAX_DEPTH = 64


class YamlLimitError(yaml.YAMLError):
    """A YAML file too deep, or whose aliases expand to too many values."""


def yaml_limit_problem(text: str, loader: type[Any] = yaml.SafeLoader) -> str | None:
    """A sentence saying why ``text`` exceeds the limits, or ``None``.

    Malformed YAML is not reported here (``None``): the loader's own message, with its line,
    is better.
    """
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = [[None, 0]]  # [anchor, expanded size] of each open collection
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.CollectionStartEvent):
                stack.append([event.anchor, 1])
                if len(stack) - 1 > MAX_DEPTH:
                    line = event.start_mark.line + 1 if event.start_mark else "?"
                    return (f"lists and mappings are nested more than {MAX_DEPTH} deep (line "
                            f"{line}); no suite file needs that much nesting.")
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                anchor, size = stack.pop()
                if anchor is not None:
                    sizes[anchor] = size
            elif isinstance(event, yaml.ScalarEvent):
                size = 1
                if event.anchor is not None:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                size = sizes.get(event.anchor or "", 1)
            else:
                continue
            stack[-1][1] += size
            if stack[-1][1] > MAX_EXPANDED_NODES:
                line = event.start_mark.line + 1 if event.start_mark else "?"
                return (f"its aliases expand to more than {MAX_EXPANDED_NODES} values (line "
                        f"{line}): anchors nested inside anchors (a 'billion laughs' file); "
                        "write the values out or use fewer aliases.")
    except yaml.YAMLError:
        return None
    except RecursionError:  # pragma: no cover - the event parser is not recursive
        return f"lists and mappings are nested more than {MAX_DEPTH} deep."
    return None


def check_yaml_limits(text: str, loader: type[Any] = yaml.SafeLoader) -> None:
    """Raise :class:`YamlLimitError` when ``text`` exceeds the limits."""
    problem = yaml_limit_problem(text, loader)
    if problem is not None:
        raise YamlLimitError(problem)


def safe_load(text: str) -> Any:
    """:func:`yaml.safe_load` after :func:`check_yaml_limits` (raises a ``yaml.YAMLError``)."""
    check_yaml_limits(text)
    return yaml.safe_load(text)
