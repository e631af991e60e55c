"""``validation predict`` and ``validation model ...``: locked-model inference and hashing."""

from __future__ import annotations

from pathlib import Path

import typer

from validation.constants import PREDICTIONS_FILE

model_app = typer.Typer(
    name="model",
    help="Locked models: hash an artifact, check a model card, scan DICOM headers for PHI.",
    no_args_is_help=True,
)


@model_app.command("hash")
def hash_command(
    files: list[Path] = typer.Argument(..., help="Files to hash (model artifacts, predictions)."),
) -> None:
    """Print the SHA-256 of each file (the value to write into the protocol's model.sha256)."""
    from validation.models.artifact import file_sha256

    for f in files:
        typer.echo(f"{file_sha256(f)}  {f}")


@model_app.command("card")
def card_command(
    card: Path = typer.Argument(..., help="Model card YAML."),
    artifact: Path | None = typer.Option(
        None, "--artifact", help="Also check this artifact's hash against the card."
    ),
) -> None:
    """Validate a model card (and optionally that the artifact matches its sha256)."""
    from validation.models.artifact import verify_sha256
    from validation.models.card import load_card

    c = load_card(card)
    if artifact is not None:
        verify_sha256(artifact, c.sha256)
    typer.echo(
        f"ok: {card}: {c.name} {c.version} ({c.kind}), training sites "
        f"{', '.join(c.training_sites)}, operating point {c.operating_point:g}"
        + (f"; artifact {artifact} matches sha256 {c.sha256}" if artifact is not None else "")
    )


@model_app.command("scan-phi")
def scan_phi_command(
    manifest: Path = typer.Argument(..., help="Test-set manifest (CSV) with case_id and image."),
    images_root: Path = typer.Option(
        ..., "--images-root", help="Folder the image paths are relative to."
    ),
    policy: str = typer.Option("warn", "--policy", help="refuse (exit 2 when flagged) or warn."),
) -> None:
    """Scan the DICOM headers of a test set for identifying attributes (values never shown)."""
    import warnings

    import pandas as pd

    from validation._atomic import canonical_json
    from validation.errors import InputError
    from validation.models.phi import PhiWarning, scan_images

    if not images_root.is_dir():
        raise InputError(f"'--images-root' must be an existing folder; got {str(images_root)!r}.")
    if not manifest.is_file():
        raise InputError(f"'MANIFEST' must be an existing CSV file; got {str(manifest)!r}.")
    cases = pd.read_csv(manifest, dtype={"case_id": str, "patient_id": str})
    pids = cases["patient_id"] if "patient_id" in cases.columns else [None] * len(cases)
    items = [
        (str(c), images_root / str(i), None if p is None else str(p))
        for c, i, p in zip(cases["case_id"], cases["image"], pids, strict=True)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PhiWarning)
        report = scan_images(items, policy=policy)
    typer.echo(canonical_json(report.to_dict()), nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")

    @app.command("predict")
    def predict_command(
        protocol: Path | None = typer.Argument(
            None, help="Protocol YAML: its model, test set and exclusions are used."
        ),
        out: Path = typer.Option(Path(PREDICTIONS_FILE), "--out", help="Predictions file."),
        model: Path | None = typer.Option(None, "--model", help="Artifact (without a protocol)."),
        kind: str = typer.Option(
            "torchscript", "--kind", help="torchscript, torch_export or onnx."
        ),
        sha256: str | None = typer.Option(None, "--sha256", help="Locked hash of --model."),
        card: Path | None = typer.Option(None, "--card", help="Model card of --model."),
        manifest: Path | None = typer.Option(
            None, "--manifest", help="Manifest CSV (without a protocol)."
        ),
        images_root: Path | None = typer.Option(
            None, "--images-root", help="Image folder of --manifest."
        ),
        workers: int = typer.Option(0, "--workers", help="DataLoader worker processes."),
        batch_size: int = typer.Option(32, "--batch-size", help="Cases per batch."),
        scheduler: str | None = typer.Option(
            None, "--scheduler", help="Run on Dask: 'local' (LocalCluster) or tcp://host:port."
        ),
        phi_policy: str | None = typer.Option(None, "--phi-policy", help="refuse or warn."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    ) -> None:
        """Run a locked model on the test images and write predictions.parquet (resumable).

        With PROTOCOL, the protocol's locked model and analysed cases are used. Without it,
        give --model, --sha256, --card, --manifest and --images-root.
        """
        from types import SimpleNamespace
        from typing import Any

        import pandas as pd

        from validation.errors import InputError
        from validation.models import predict
        from validation.preflight import check_output_file

        check_output_file(out)
        if protocol is not None:
            from validation.pipeline import load_test_set
            from validation.protocol import load_protocol

            proto: Any = load_protocol(protocol)
            base = protocol.parent
            cases = load_test_set(proto, base).analysed
        else:
            missing = [
                name
                for name, v in (
                    ("--model", model),
                    ("--sha256", sha256),
                    ("--card", card),
                    ("--manifest", manifest),
                    ("--images-root", images_root),
                )
                if v is None
            ]
            if missing:
                raise InputError(
                    f"Without a PROTOCOL, predict needs {', '.join(missing)}; got none for them."
                )
            from validation.models.card import load_card

            c = load_card(Path(str(card)))
            base = Path(".")
            proto = SimpleNamespace(
                model=SimpleNamespace(
                    kind=kind,
                    artifact=str(model),
                    sha256=sha256,
                    card=str(card),
                    training_sites=list(c.training_sites),
                    operating_point=c.operating_point,
                    score_column=None,
                ),
                test_set=SimpleNamespace(images_root=str(images_root)),
                analysis=None,
            )
            cases = pd.read_csv(
                Path(str(manifest)), dtype={"case_id": str, "patient_id": str, "site": str}
            )
        path = predict(
            proto,
            base,
            cases,
            out,
            workers=workers,
            progress=not quiet,
            scheduler=scheduler,
            batch_size=batch_size,
            phi_policy=phi_policy,
        )
        typer.echo(f"predictions: {path} ({len(cases)} cases)")
