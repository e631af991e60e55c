"""Protocols as code: the pydantic model, YAML loading with line numbers, locking.

* :func:`load_protocol` -- read and validate a protocol YAML (every problem, with its line);
* :class:`Protocol` -- the model (``validation.protocol.model``); its vocabulary (kinds,
  interval methods, null values) in ``validation.protocol.vocabulary``, its cross-field and
  planning checks in ``validation.protocol.checks``;
* :func:`lock_protocol` / :func:`verify_lock` -- sign a protocol into ``<file>.lock.json`` and
  check later that the file is still what was signed;
* :func:`protocol_sha256` / :func:`canonical_protocol_json` -- the hash every output quotes.
"""

from validation.protocol.load import Problem, check_protocol, load_protocol
from validation.protocol.lock import (
    Approval,
    ProtocolLock,
    canonical_protocol_json,
    lock_path_for,
    lock_protocol,
    protocol_sha256,
    read_lock,
    verify_lock,
)
from validation.protocol.model import (
    Endpoint,
    Hypothesis,
    Multiplicity,
    Protocol,
    Subgroup,
)
from validation.protocol.vocabulary import (
    CI_METHODS,
    MRMC_KINDS,
    PROPORTION_KINDS,
    READER_KINDS,
    allowed_ci_methods,
)

__all__ = [
    "CI_METHODS",
    "MRMC_KINDS",
    "PROPORTION_KINDS",
    "READER_KINDS",
    "Approval",
    "Endpoint",
    "Hypothesis",
    "Multiplicity",
    "Problem",
    "Protocol",
    "ProtocolLock",
    "Subgroup",
    "allowed_ci_methods",
    "canonical_protocol_json",
    "check_protocol",
    "load_protocol",
    "lock_path_for",
    "lock_protocol",
    "protocol_sha256",
    "read_lock",
    "verify_lock",
]
