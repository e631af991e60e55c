"""Bad protocols: every problem found at once, each with file, line, field and what is allowed."""

from __future__ import annotations

import re

import pytest
from protocol_helpers import minimal_text
from pydantic import ValidationError as PydanticValidationError

from validation.errors import ProtocolError
from validation.protocol import Protocol, check_protocol, load_protocol


def line_of(text: str, fragment: str, nth: int = 0) -> int:
    """1-based line of the ``nth`` line containing ``fragment``."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if fragment in line]
    return hits[nth]


def problems_of(write_protocol, text: str, **kw) -> list[str]:
    path = write_protocol(text)
    protocol, problems = check_protocol(path, **kw)
    assert protocol is None
    return [str(p) for p in problems]


def only(problems: list[str]) -> str:
    assert len(problems) == 1, problems
    return problems[0]


def test_minimal_protocol_is_valid(write_protocol):
    p = load_protocol(write_protocol(minimal_text()))
    assert p.endpoint("spec").ci == "wilson"  # default for a proportion per patient
    assert p.endpoint("auc").ci == "delong"
    assert p.subgroups[0].labels == ["18-50", "50-120"]
    assert p.multiplicity.family() == ["H1", "H2"]
    assert p.populations == ["all_eligible"]


def test_malformed_yaml_gives_its_line(write_protocol):
    text = minimal_text().replace("  title: Test study", "  title: [unclosed")
    msg = only(problems_of(write_protocol, text))
    assert "malformed YAML" in msg
    m = re.match(r".*p\.yaml:(\d+):(\d+):", msg)
    assert m is not None and int(m.group(1)) >= line_of(text, "[unclosed")


def test_bad_indentation_is_malformed(write_protocol):
    text = minimal_text().replace("  sponsor: Test sponsor", " sponsor: Test sponsor")
    assert "malformed YAML" in only(problems_of(write_protocol, text))


@pytest.mark.parametrize(
    ("old", "new", "field", "expect"),
    [
        ("  seed: 1", "  seed: one", "analysis.seed", "must be a whole number; got the text 'one'."),
        ("alpha: 0.025", "alpha: five percent", "alpha",
         "must be a number; got the text 'five percent'."),
        ("  operating_point: 0.5", "  operating_point: high", "model.operating_point", "number"),
        ("  version: \"1.0\"", "  version: 1.0", "study.version", 'Quote it in YAML, e.g. "1.0"'),
        ("  training_sites: [T1]", "  training_sites: T1", "model.training_sites", "list"),
        ('  risk_class: "II"', '  risk_class: "2"', "device.risk_class", "I, II, IIa, IIb, III"),
        ("  kind: precomputed", "  kind: pytorch", "model.kind", "torchscript, torch_export"),
        # a boolean or a quoted number is never read as a number (YAML's "yes" is true)
        ("alpha: 0.025", 'alpha: "0.025"', "alpha", "must be a number; got the text"),
        ("{id: H2, endpoint: spec, type: performance_goal, goal: 0.8}",
         "{id: H2, endpoint: spec, type: performance_goal, goal: yes}",
         "hypotheses[1].goal", "got True (YAML reads yes/no/true/false as a boolean)"),
        ("alpha: 0.025", "alpha: 2e-2", "alpha",
         "got the text '2e-2'. YAML reads 2e-2 as text (an exponent needs a dot in the "
         "mantissa and a sign, as in 2.0e-02); write 0.02."),
        ("  seed: 1", "  seed: 1.0", "analysis.seed", "must be a whole number; got 1.0 (write 1)"),
        ("  operating_point: 0.5", '  operating_point: "0.5"', "model.operating_point",
         "must be a number; got the text '0.5'. Write it without quotes."),
        ("alpha: 0.025", "alpha: .nan", "alpha", "must be a finite number"),
    ],
)
def test_wrong_types_name_line_and_field(write_protocol, old, new, field, expect):
    text = minimal_text().replace(old, new)
    msg = only(problems_of(write_protocol, text))
    assert f"p.yaml:{line_of(text, new.strip())}:" in msg
    assert f" {field}: " in msg
    assert expect in msg


def test_sha256_must_be_64_lowercase_hex(write_protocol):
    text = minimal_text(sha="AB" * 32)
    msg = only(problems_of(write_protocol, text))
    assert "model.sha256" in msg and "64 lowercase hexadecimal" in msg
    assert f":{line_of(text, 'sha256')}:" in msg


def test_unknown_key_with_did_you_mean(write_protocol):
    text = minimal_text().replace("  operating_point: 0.5", "  operating_pont: 0.5")
    problems = problems_of(write_protocol, text)
    unknown = [p for p in problems if "unknown key" in p]
    missing = [p for p in problems if "required key 'operating_point' is missing" in p]
    assert len(unknown) == 1 and len(missing) == 1, problems
    assert "Did you mean 'operating_point'?" in unknown[0]
    assert "Allowed here: kind, artifact, sha256" in unknown[0]
    assert f"p.yaml:{line_of(text, 'operating_pont')}:3: model.operating_pont:" in unknown[0]


def test_unknown_top_level_section(write_protocol):
    text = minimal_text() + "subgrups: []\n"
    msg = only(problems_of(write_protocol, text))
    assert "Did you mean 'subgroups'?" in msg and f":{line_of(text, 'subgrups')}:1:" in msg


def test_unknown_key_inside_list_item(write_protocol):
    text = minimal_text().replace("{id: auc, kind: auc, role: secondary}",
                                  "{id: auc, kind: auc, role: secondary, cii: delong}")
    msg = only(problems_of(write_protocol, text))
    assert "endpoints[2].cii" in msg and "Did you mean 'ci'?" in msg


def test_duplicate_yaml_key(write_protocol):
    text = minimal_text().replace("  sponsor: Test sponsor", "  sponsor: A\n  sponsor: B")
    msg = only(problems_of(write_protocol, text))
    assert "appears twice" in msg and f":{line_of(text, 'sponsor: B')}:" in msg


def test_missing_files_relative_to_protocol_folder(write_protocol, tmp_path):
    (tmp_path / "manifest.csv").unlink()
    text = minimal_text().replace("  artifact: predictions.csv", "  artifact: preds/none.csv")
    problems = problems_of(write_protocol, text)
    assert len(problems) == 2
    assert "model.artifact" in problems[0] and "'preds/none.csv' does not exist" in problems[0]
    assert "test_set.manifest" in problems[1] and "does not exist" in problems[1]
    # the same protocol is valid when files are not checked (a template)
    assert check_protocol(tmp_path / "p.yaml", check_files=False)[1] == []


def test_absolute_path_refused(write_protocol, tmp_path):
    text = minimal_text().replace("  manifest: manifest.csv",
                                  f"  manifest: {tmp_path / 'manifest.csv'}")
    assert "must be a path relative" in only(problems_of(write_protocol, text))


def test_unknown_data_spec(write_protocol):
    text = minimal_text().replace("  reference_standard: Consensus.",
                                  "  reference_standard: Consensus.\n  data_spec: test_set_manifst")
    msg = only(problems_of(write_protocol, text))
    assert "test_set.data_spec" in msg and "Did you mean 'test_set_manifest'?" in msg


def test_undefined_endpoint(write_protocol):
    text = minimal_text().replace("endpoint: spec,", "endpoint: spek,")
    msg = only(problems_of(write_protocol, text))
    assert "hypotheses[1].endpoint" in msg
    assert "'spek', which is not defined" in msg and "Did you mean 'spec'?" in msg
    assert f":{line_of(text, 'endpoint: spek')}:" in msg


def test_reader_endpoint_without_reader_study(write_protocol):
    text = minimal_text().replace("{id: auc, kind: auc, role: secondary}",
                                  "{id: auc, kind: mrmc_auc, role: secondary}")
    msg = only(problems_of(write_protocol, text))
    assert "endpoints[2].kind" in msg and "needs a 'reader_study' section" in msg


def test_ci_method_not_valid_for_kind(write_protocol):
    text = minimal_text().replace("{id: auc, kind: auc, role: secondary}",
                                  "{id: auc, kind: auc, ci: wilson, role: secondary}")
    msg = only(problems_of(write_protocol, text))
    assert "endpoints[2].ci" in msg and "must be one of delong, logit, bootstrap" in msg


def test_finding_unit_needs_cluster_method(write_protocol):
    text = minimal_text().replace(
        "{id: auc, kind: auc, role: secondary}",
        "{id: auc, kind: auc, unit: finding, ci: delong, role: secondary}",
    )
    msg = only(problems_of(write_protocol, text))
    assert "obuchowski, cluster_bootstrap" in msg and "unit 'finding'" in msg
    text = minimal_text().replace("{id: auc, kind: auc, role: secondary}",
                                  "{id: auc, kind: auc, unit: finding, role: secondary}")
    assert load_protocol(write_protocol(text)).endpoint("auc").ci == "obuchowski"


def test_duplicate_ids(write_protocol):
    text = minimal_text().replace("{id: auc, kind: auc", "{id: sens, kind: auc")
    msg = only(problems_of(write_protocol, text))
    assert "duplicate id 'sens'" in msg and "endpoints[2].id" in msg


@pytest.mark.parametrize("margin", ["-0.05", "0", "1.5"])
def test_margin_must_be_positive(write_protocol, margin):
    text = minimal_text().replace(
        "{id: H2, endpoint: spec, type: performance_goal, goal: 0.8}",
        f"{{id: H2, endpoint: spec, type: noninferiority, goal: 0.8, margin: {margin}}}",
    )
    msg = only(problems_of(write_protocol, text))
    assert "hypotheses[1].margin" in msg and "'margin' must be positive" in msg


def test_noninferiority_needs_margin_and_goal_rules(write_protocol):
    text = minimal_text().replace(
        "{id: H2, endpoint: spec, type: performance_goal, goal: 0.8}",
        "{id: H2, endpoint: spec, type: noninferiority}",
    )
    problems = problems_of(write_protocol, text)
    assert any("needs a positive 'margin'" in p for p in problems), problems
    text = minimal_text().replace("goal: 0.8}}", "goal: 0.8, margin: 0.1}}")
    text = minimal_text().replace("type: performance_goal, goal: 0.8}",
                                  "type: performance_goal, goal: 0.8, margin: 0.1}", 1)
    assert "does not apply to a performance_goal" in only(problems_of(write_protocol, text))


H2_GOAL = "{id: H2, endpoint: spec, type: performance_goal, goal: 0.8}"


@pytest.mark.parametrize(
    ("h2", "field", "expect"),
    [
        ("{id: H2, endpoint: spec, type: noninferiority, margin: 0.05}", "hypotheses[1].goal",
         "or the manifest column of a comparator read on the same cases"),
        ("{id: H2, endpoint: spec, type: noninferiority, margin: 0.05, goal: 0.8, "
         "comparator_column: reader}", "hypotheses[1]", "not both"),
        ("{id: H2, endpoint: spec, type: performance_goal, goal: 0.8, comparator_column: reader}",
         "hypotheses[1]", "does not apply to a performance_goal"),
        ("{id: H2, endpoint: spec, type: superiority, margin: 0.02, comparator_column: reader}",
         "hypotheses[1]", "superiority margin against a comparator"),
        ("{id: H2, endpoint: spec, type: superiority, comparator: reader}",
         "hypotheses[1].comparator", "or the manifest column of a comparator"),
        ("{id: H2, endpoint: spec, type: superiority, comparator_column: truth}",
         "hypotheses[1].comparator_column", "a column the analysis already uses"),
        ("{id: H2, endpoint: spec, type: superiority, comparator_column: patient_name}",
         "hypotheses[1].comparator_column", "is an identifier column"),
        ("{id: H2, endpoint: spec, type: superiority, comparator_column: indeterminate}",
         "hypotheses[1].comparator_column", "a column the analysis already uses"),
        ("{id: H2, endpoint: spec, type: superiority, comparator_column: non_diagnostic}",
         "hypotheses[1].comparator_column", "the test set's indeterminate flag"),
    ],
)
def test_standalone_comparator_rules(write_protocol, h2, field, expect):
    text = minimal_text().replace(H2_GOAL, h2)
    problems = problems_of(write_protocol, text)
    assert any(field in p and expect in p for p in problems), problems


def test_comparator_column_needs_a_comparable_kind(write_protocol):
    text = minimal_text().replace(
        "  - {id: auc, kind: auc, role: secondary}",
        "  - {id: auc, kind: auc, role: secondary}\n  - {id: ppv, kind: ppv}",
    ).replace(H2_GOAL, "{id: H2, endpoint: ppv, type: superiority, comparator_column: reader}")
    msg = only(problems_of(write_protocol, text))
    assert "hypotheses[1].comparator_column" in msg and "sensitivity, specificity, auc" in msg


def test_comparator_column_is_valid(write_protocol):
    text = minimal_text().replace(
        H2_GOAL, "{id: H2, endpoint: spec, type: noninferiority, margin: 0.05, "
                 "comparator_column: reader_call}")
    p = load_protocol(write_protocol(text))
    assert p.hypothesis("H2").comparator_column == "reader_call"
    assert p.hypothesis("H2").goal is None


def test_multiplicity_names_unknown_hypothesis(write_protocol):
    text = minimal_text().replace("  hypotheses: [H1, H2]", "  hypotheses: [H1, H3]")
    problems = problems_of(write_protocol, text)
    unknown = [p for p in problems if "'H3', which is not defined" in p]
    assert len(unknown) == 1 and "multiplicity.hypotheses[1]" in unknown[0]
    # H2 tests a primary endpoint and is now outside the family
    assert any("'H2' tests a primary endpoint but is not in" in p for p in problems)


def test_procedure_none_with_two_confirmatory_hypotheses(write_protocol):
    text = minimal_text().replace("  procedure: coprimary\n  hypotheses: [H1, H2]\n",
                                  "  procedure: none\n")
    assert "choose a procedure" in only(problems_of(write_protocol, text))


def test_fixed_sequence_needs_order(write_protocol):
    text = minimal_text().replace("procedure: coprimary", "procedure: fixed_sequence")
    msg = only(problems_of(write_protocol, text))
    assert "needs a non-empty 'order'" in msg or "does not apply" in msg


@pytest.mark.parametrize(
    ("graph", "expect"),
    [
        ("weights: {H1: 0.6, H2: 0.6}", "sum to at most 1"),
        ("weights: {H1: 0.5, H2: 0.5}\n  transitions: {H1: {H2: 0.7, H1: 0.4}}",
         "must sum to at most 1"),
        ("weights: {H1: 0.5, H2: 0.5}\n  transitions: {H1: {H1: 0.5}}", "zero diagonal"),
        ("weights: {H1: 0.5, H2: 0.5}\n  transitions: {H1: {H2: -0.5}}", "must be in [0, 1]"),
        ("weights: {H1: 1.0, H9: 0.0}", "'H9', which is not defined"),
    ],
)
def test_graphical_weights_and_transitions(write_protocol, graph, expect):
    text = minimal_text().replace("  procedure: coprimary\n  hypotheses: [H1, H2]\n",
                                  f"  procedure: graphical\n  {graph}\n")
    problems = problems_of(write_protocol, text)
    assert any(expect in p for p in problems), problems


def test_graph_problems_are_located_at_their_field(write_protocol):
    text = minimal_text().replace(
        "  procedure: coprimary\n  hypotheses: [H1, H2]\n",
        "  procedure: graphical\n  weights: {H1: 0.5, H2: 0.6}\n  transitions:\n"
        "    H1: {H1: 0.5}\n    H2: {H1: 1.0}\n")
    problems = problems_of(write_protocol, text)
    assert len(problems) == 2, problems
    assert f"p.yaml:{line_of(text, 'weights: {H1: 0.5')}:" in problems[0]
    assert "multiplicity.weights: 'weights' must sum to at most 1" in problems[0]
    assert f"p.yaml:{line_of(text, 'H1: {H1: 0.5}')}:" in problems[1]
    assert "multiplicity.transitions.H1.H1: transition 'H1' -> 'H1' must be 0" in problems[1]


def test_valid_graph(write_protocol):
    text = minimal_text().replace(
        "  procedure: coprimary\n  hypotheses: [H1, H2]\n",
        "  procedure: graphical\n  weights: {H1: 0.5, H2: 0.5}\n"
        "  transitions: {H1: {H2: 1.0}, H2: {H1: 1.0}}\n",
    )
    p = load_protocol(write_protocol(text))
    assert p.multiplicity.transitions == {"H1": {"H2": 1.0}, "H2": {"H1": 1.0}}


def test_subgroup_bins_and_labels(write_protocol):
    text = minimal_text().replace("bins: [18, 50, 120]}", "bins: [18, 50, 40]}")
    assert "strictly increasing" in only(problems_of(write_protocol, text))
    text = minimal_text().replace("bins: [18, 50, 120]}", "bins: [18, 50, 120], labels: [a]}")
    assert "one name per bin (2)" in only(problems_of(write_protocol, text))


def test_subgroup_on_identifier_column(write_protocol):
    text = minimal_text().replace("column: age,", "column: patient_name,")
    assert "is an identifier column" in only(problems_of(write_protocol, text))


def test_model_section_rules(write_protocol):
    text = minimal_text().replace("  kind: precomputed", "  kind: onnx").replace(
        "  operating_point: 0.5", "  operating_point: 0.5\n  score_column: prob")
    assert "applies only to kind 'precomputed'" in only(problems_of(write_protocol, text))
    p = load_protocol(write_protocol(minimal_text()))
    assert p.model.score_column == "score"


def test_empty_and_non_mapping_files(write_protocol):
    assert "empty" in only(problems_of(write_protocol, ""))
    assert "top level must be a mapping" in only(problems_of(write_protocol, "- a\n- b\n"))


def test_missing_protocol_file(tmp_path):
    with pytest.raises(ProtocolError, match="does not exist"):
        load_protocol(tmp_path / "nope.yaml")


def test_all_errors_at_once_sorted_by_line(write_protocol, tmp_path):
    (tmp_path / "manifest.csv").unlink()
    text = (
        minimal_text()
        .replace("  sponsor: Test sponsor", "  sponsr: Test sponsor")
        .replace("  seed: 1", "  seed: x")
        .replace("endpoint: spec,", "endpoint: nothing,")
        .replace("{id: auc, kind: auc, role: secondary}",
                 "{id: auc, kind: auc, ci: exact, role: secondary}")
    )
    with pytest.raises(ProtocolError) as info:
        load_protocol(write_protocol(text))
    problems = info.value.problems
    assert len(problems) == 6, problems  # unknown + missing sponsor, manifest, ci, endpoint, seed
    lines = [int(re.match(r".*?:(\d+):", p).group(1)) for p in problems]
    assert lines == sorted(lines)
    assert str(info.value).startswith(f"protocol {tmp_path / 'p.yaml'} has 6 problems:")


def test_model_validate_runs_cross_checks_too():
    import yaml

    data = yaml.safe_load(minimal_text().replace("endpoint: spec,", "endpoint: nothing,"))
    with pytest.raises(PydanticValidationError, match="'nothing', which is not defined"):
        Protocol.model_validate(data)


def test_reader_study_rules(write_protocol, tmp_path):
    (tmp_path / "ratings.csv").write_text("reader_id\n", encoding="utf-8")
    base = minimal_text().replace(
        "endpoints:\n",
        "reader_study:\n  ratings: ratings.csv\n  modalities: [unaided, aided]\n"
        "  washout_days_min: 28\nendpoints:\n  - {id: m, kind: mrmc_auc, role: secondary}\n",
    ).replace(
        "hypotheses:\n",
        "hypotheses:\n  - {id: H3, endpoint: m, type: superiority, comparator: unaided}\n",
    ).replace("  procedure: coprimary\n  hypotheses: [H1, H2]\n",
              "  procedure: holm\n  hypotheses: [H1, H2, H3]\n")
    p = load_protocol(write_protocol(base))
    assert p.endpoint("m").ci == "obuchowski_rockette" and p.endpoint("m").covariance == "jackknife"
    bad = base.replace("comparator: unaided}", "comparator: unaidd}")
    assert "Did you mean 'unaided'?" in only(problems_of(write_protocol, bad))
    bad = base.replace("comparator: unaided}", "comparator: aided}")
    assert "is the test modality itself" in only(problems_of(write_protocol, bad))
    bad = base.replace("comparator: unaided}", "goal: 0.8}")
    assert "'goal' does not apply" in only(problems_of(write_protocol, bad))
    bad = base.replace("comparator: unaided}", "comparator_column: reader}")
    msg = only(problems_of(write_protocol, bad))
    assert "hypotheses[0].comparator_column" in msg and "use 'comparator'" in msg
    bad = base.replace("modalities: [unaided, aided]", "modalities: [aided, aided]")
    assert any("must not repeat" in p for p in problems_of(write_protocol, bad))
    bad = base.replace("{id: m, kind: mrmc_auc,", "{id: m, kind: mrmc_auc, unit: finding,")
    assert "'unit' must be 'patient'" in only(problems_of(write_protocol, bad))


def test_section_of_wrong_shape(write_protocol):
    text = minimal_text().replace(
        "multiplicity:\n  procedure: coprimary\n  hypotheses: [H1, H2]\n",
        "multiplicity: [H1, H2]\n",
    )
    problems = problems_of(write_protocol, text)
    shape = [p for p in problems if "'multiplicity' must be a mapping" in p]
    assert len(shape) == 1 and f":{line_of(text, 'multiplicity: [H1')}:" in shape[0]


def test_comparator_column_is_not_a_flag_column(write_protocol):
    text = minimal_text().replace(
        "  identifier_columns: [patient_name]",
        "  identifier_columns: [patient_name]\n"
        "  exclusions: [{reason: consent_withdrawn, column: consent, values: [true]}]\n"
        "  indeterminate: {column: ungradable}",
    )
    for col, expect in (("consent", "exclusion column (reason 'consent_withdrawn')"),
                        ("ungradable", "indeterminate flag")):
        h2 = f"{{id: H2, endpoint: spec, type: superiority, comparator_column: {col}}}"
        msg = only(problems_of(write_protocol, text.replace(H2_GOAL, h2)))
        assert "hypotheses[1].comparator_column" in msg and expect in msg, msg
    # the default indeterminate column is free once another one is named
    h2 = "{id: H2, endpoint: spec, type: superiority, comparator_column: non_diagnostic}"
    protocol, problems = check_protocol(write_protocol(text.replace(H2_GOAL, h2)))
    assert problems == [] and protocol is not None


@pytest.mark.parametrize(
    ("h2", "expect"),
    [("{id: H2, endpoint: spec, type: noninferiority, goal: 0.03, margin: 0.05}",
      "hypothesis 'H2' (noninferiority): the null value goal - margin = -0.02 lies outside "
      "(0, 1)"),
     ("{id: H2, endpoint: spec, type: superiority, goal: 0.97, margin: 0.05}",
      "the null value goal + margin = 1.02 lies outside (0, 1)"),
     ("{id: H2, endpoint: spec, type: equivalence, goal: 0.97, margin: 0.05}",
      "goal + margin = 1.02"),
     ("{id: H2, endpoint: spec, type: equivalence, goal: 0.04, margin: 0.05}",
      "goal - margin = -0.01")],
)
def test_null_value_outside_the_unit_interval(write_protocol, h2, expect):
    """A hypothesis no data could reject is refused at check, before the lock."""
    text = minimal_text().replace(H2_GOAL, h2)
    msg = only(problems_of(write_protocol, text))
    assert "hypotheses[1].margin" in msg and expect in msg
    assert f":{line_of(text, '{id: H2')}:" in msg


def test_one_sided_alpha_below_half(write_protocol):
    text = minimal_text().replace("alpha: 0.025", "alpha: 0.5")
    msg = only(problems_of(write_protocol, text))
    assert f":{line_of(text, 'alpha: 0.5')}:" in msg and "alpha:" in msg
    assert "a one-sided level must be below 0.5 (e.g. 0.025)" in msg and "got 0.5" in msg
    two = text.replace("sidedness: one-sided", "sidedness: two-sided")
    load_protocol(write_protocol(two))  # a two-sided 0.5 is 0.25 per side


def test_hypothesis_without_id_is_named_by_position(write_protocol):
    text = minimal_text().replace("{id: H2, endpoint: spec,", "{endpoint: specc,")
    problems = problems_of(write_protocol, text)
    assert any("hypotheses[1].id" in p and "required" in p.lower() for p in problems), problems
    assert any("hypothesis hypotheses[1] (no id) names endpoint 'specc'" in p
               for p in problems), problems
    assert not any("None" in p for p in problems), problems
