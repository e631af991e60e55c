"""A model file of another kind than declared: one message from us, no torch log (issue 23)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from validation.errors import LockedModelError  # noqa: E402
from validation.models.artifact import _load_bytes, sniff_model_kind  # noqa: E402


class _Sum(torch.nn.Module):  # type: ignore[misc]
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(dim=(1, 2, 3))


@pytest.fixture(scope="module")
def archives() -> dict[str, bytes]:
    m = _Sum()
    example = torch.zeros(1, 1, 4, 4)
    ts, ex = io.BytesIO(), io.BytesIO()
    with warnings.catch_warnings():  # torch 2.x deprecates TorchScript; the files still exist
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.trace(m, example), ts)
    torch.export.save(torch.export.export(m, (example,)), ex)
    ck = io.BytesIO()
    torch.save(m.state_dict(), ck)
    return {"torchscript": ts.getvalue(), "torch_export": ex.getvalue(),
            "torch_checkpoint": ck.getvalue(), "text": b"not a model\n"}


def test_the_kind_is_recognised_from_the_layout(archives: dict[str, bytes]) -> None:
    assert {k: sniff_model_kind(v) for k, v in archives.items()} == {
        "torchscript": "torchscript", "torch_export": "torch_export",
        "torch_checkpoint": "torch_checkpoint", "text": None}


@pytest.mark.parametrize(("declared", "given", "looks"), [
    ("torch_export", "torchscript", "a TorchScript archive"),
    ("torchscript", "torch_export", "a torch.export archive"),
    ("onnx", "torchscript", "a TorchScript archive"),
    ("torchscript", "torch_checkpoint", "a torch.save checkpoint"),
])
def test_a_mismatched_kind_is_named(archives: dict[str, bytes], capfd: pytest.CaptureFixture[str],
                                    declared: str, given: str, looks: str) -> None:
    with pytest.raises(LockedModelError) as err:
        _load_bytes(declared, archives[given], Path("model.bin"))
    msg = str(err.value)
    assert "'model.bin'" in msg and f"model.kind {declared!r}" in msg and looks in msg
    assert capfd.readouterr().err == ""


def test_an_unknown_file_gives_one_message_and_no_torch_log(
        archives: dict[str, bytes], capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(LockedModelError, match="does not load as a torch.export archive"):
        _load_bytes("torch_export", archives["text"], Path("model.pt2"))
    err = capfd.readouterr().err
    assert "Traceback" not in err and "warnings above" not in err
