"""The dossier documents: the statistical analysis plan (SAP) and the performance report.

``results.json`` (and the other dossier files) -> view model (:mod:`.context`, declared
rounding) -> figures (:mod:`.figures`, matplotlib) -> ``.qmd`` (:mod:`.qmd`, Jinja templates in
``reports/``) -> HTML / PDF / DOCX (:mod:`.render`: Quarto when installed, else pandoc + typst).
This layer never computes a statistic and never imports :mod:`validation.stats`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from validation.constants import LOCK_FILE, RESULTS_FILE
from validation.errors import InputError
from validation.report.render import FORMATS, check_formats, render_qmd, renderer_name

__all__ = ["FORMATS", "render_report", "render_sap", "renderer_name"]


def render_report(run_dir: str | Path, formats: Iterable[str] | str = FORMATS) -> list[Path]:
    """Render the performance report (and the SAP, when the run holds its protocol lock).

    Writes ``run_dir/report/``: ``sar.qmd`` (and ``sap.qmd``), ``figures/*.svg|png``, the Quarto
    project file and styles, and the rendered documents.

    Parameters
    ----------
    run_dir : path
        A run directory holding ``results.json`` (``protocol.lock.json``, ``inputs.json``,
        ``environment.json`` and ``test_set_usage.json`` are used when present).
    formats : iterable of {"html", "pdf", "docx"} or a comma-separated string

    Returns
    -------
    list of Path
        The rendered documents: the report's, then the SAP's.
    """
    from validation.report.consistency_figures import consistency_parts
    from validation.report.context import read_json, sar_context
    from validation.report.figures import make_figures
    from validation.report.qmd import copy_styles, write_sap_qmd, write_sar_qmd
    from validation.report.sap import sap_context

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"'run_dir' must be an existing run directory; got {str(run_dir)!r}.")
    fmts = check_formats(formats)
    out = run_dir / "report"
    context = sar_context(run_dir)
    results = read_json(run_dir / RESULTS_FILE)
    figures = make_figures(results, out / "figures", png="docx" in fmts)
    from validation.report.robustness import robustness_view
    from validation.report.robustness_figures import robustness_figures

    figures["robustness"] = robustness_figures(results, run_dir, out / "figures")
    context["robustness"] = robustness_view(results)
    if results.get("segmentation"):
        from validation.report.segmentation import segmentation_view
        from validation.report.segmentation_figures import make_segmentation_figures

        context["segmentation"] = segmentation_view(results, make_segmentation_figures(results, out / "figures"))
    context["consistency"], figures["consistency"] = consistency_parts(results, out / "figures")
    from validation.report.risk import risk_view
    from validation.report.risk_figures import risk_figures

    context["risk"] = risk_view(results)  # the risk section and its figures (issue 18)
    figures["risk"] = risk_figures(results, out / "figures")
    from validation.report.localization import localization_view
    from validation.report.localization_figures import localization_figures

    context["localization"] = localization_view(results)
    figures["localization"] = localization_figures(results, out / "figures")
    _copy_explanations(run_dir, results, out / "figures")
    copy_styles(out)
    outputs = render_qmd(write_sar_qmd(context, figures, out), fmts)
    lock = run_dir / LOCK_FILE
    if lock.is_file():
        plan = results.get("sample_size")
        rob_plan = (results.get("robustness") or {}).get("plan")
        outputs += render_qmd(write_sap_qmd(sap_context(lock, plan, robustness_plan=rob_plan), out),
                              fmts)
    return outputs


def _copy_explanations(run_dir: Path, results: dict, figures: Path) -> None:
    """Put the saliency figures of the error analysis beside the report's own figures."""
    import shutil

    from validation.errors import RenderError

    ex = results.get("explanations") or {}
    for item in ex.get("items") or []:
        src = run_dir / str(item.get("image", ""))
        if not src.is_file():
            raise RenderError(f"results.json lists the error-analysis figure {item.get('image')!r}, "
                              f"which the run directory does not hold.")
        figures.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, figures / src.name)


def render_sap(lock_path: str | Path, out_dir: str | Path,
               formats: Iterable[str] | str = FORMATS,
               sample_size: Mapping[str, Any] | None = None,
               robustness_plan: Mapping[str, Any] | None = None) -> list[Path]:
    """Render the statistical analysis plan from a locked protocol alone into ``out_dir``.

    Parameters
    ----------
    lock_path : path
        The protocol's lock file (``<protocol>.yaml.lock.json``), holding the canonical protocol,
        its sha256 and the approval record shown on the first page.
    out_dir : path
        Folder for ``sap.qmd``, the styles and the rendered documents (created if needed).
    formats : iterable of {"html", "pdf", "docx"} or a comma-separated string
    sample_size : mapping, optional
        The plain sample-size plan (:func:`validation.analysis.sample_size.sample_size_section`
        of the locked protocol); the report formats it and computes nothing.
    robustness_plan : mapping, optional
        The perturbation plan of the locked protocol's ``robustness`` section
        (:func:`validation.models.perturb.perturbation_plan`, the plan a run records): each
        family's parameter, unit, allowed range and description, which the SAP shows.

    Returns
    -------
    list of Path
        The rendered documents.
    """
    from validation.report.qmd import copy_styles, write_sap_qmd
    from validation.report.sap import sap_context

    lock_path = Path(lock_path)
    if not lock_path.is_file():
        raise InputError(f"'lock_path' must be an existing protocol lock file; got "
                         f"{str(lock_path)!r}. Lock the protocol first: validation protocol lock.")
    try:
        json.loads(lock_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"'lock_path' must be a JSON protocol lock; got {lock_path.name!r} "
                         f"({exc}).") from exc
    fmts = check_formats(formats)
    out = Path(out_dir)
    copy_styles(out)
    return render_qmd(write_sap_qmd(sap_context(lock_path, sample_size,
                                                robustness_plan=robustness_plan), out), fmts)
