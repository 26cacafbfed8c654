"""`bookingkit spec check` and `bookingkit spec diff`: the corpus of spec pairs, defects, formats, exit codes."""

import copy
import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from bookingkit.documents import parse
from bookingkit.openapi import load
from bookingkit.spec_check import check
from bookingkit.spec_diff import diff
from bookingkit.spec_diff_schemas import within

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "spec_corpus"
BASE = yaml.safe_load((CORPUS / "base.yaml").read_text())
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text())


def apply(spec: dict, changes: list[dict]) -> dict:
    spec = copy.deepcopy(spec)
    for change in changes:
        pointer = change.get("set") or change["remove"]
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
        node = spec
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if "remove" in change:
            del node[last]
        elif isinstance(node, list):
            node.insert(int(last), change["value"]) if int(last) >= len(node) else node.__setitem__(
                int(last), change["value"]
            )
        else:
            node[last] = change["value"]
    return spec


def found(old: dict, new: dict) -> list[str]:
    """A change to a shared schema is reported once per operation it reaches; the kinds are compared here."""
    return sorted({f"{c.severity} {c.rule}" for c in diff(old, new)})


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_diff_corpus_both_directions(case):
    changed = apply(BASE, case["changes"])
    assert found(BASE, changed) == sorted(case["forward"])
    assert found(changed, BASE) == sorted(case["backward"])


def test_corpus_specs_are_themselves_sound():
    assert check(BASE) == []


def test_nothing_on_identical_or_reformatted_specs(tmp_path):
    project = load(str(ROOT / "openapi.yaml"))
    assert diff(project, copy.deepcopy(project)) == []
    reordered = json.loads(json.dumps(project, sort_keys=True))  # keys reordered, JSON instead of YAML
    (tmp_path / "flow.yaml").write_text(yaml.safe_dump(project, default_flow_style=True, width=60))
    assert diff(project, reordered) == [] and diff(project, load(str(tmp_path / "flow.yaml"))) == []
    renamed = json.loads(json.dumps(BASE).replace('#/components/schemas/Item"', '#/components/schemas/Thing"'))
    renamed["components"]["schemas"]["Thing"] = renamed["components"]["schemas"].pop("Item")
    assert diff(BASE, renamed) == []  # a component renamed is no change to a client


def test_check_passes_on_the_project_specs():
    assert check(load(str(ROOT / "openapi.yaml"))) == []
    assert check(load(str(ROOT / "mock_server" / "admin.yaml"))) == []


DEFECTS = [
    ("valid-openapi", [{"set": "/paths/~1health/get/responses", "value": "none"}]),
    (
        "ref-resolves",
        [{"set": "/components/schemas/Item/properties/id", "value": {"$ref": "#/components/schemas/Nope"}}],
    ),
    ("example-valid", [{"set": "/components/schemas/Item/example", "value": {"id": 1}}]),
    ("default-valid", [{"set": "/components/schemas/ItemWrite/properties/count/default", "value": 99}]),
    ("operation-operationid", [{"remove": "/paths/~1health/get/operationId"}]),
    ("operation-tag", [{"remove": "/paths/~1health/get/tags"}]),
    ("operation-summary", [{"remove": "/paths/~1health/get/summary"}]),
    (
        "operation-security",
        [{"remove": "/security"}, {"set": "/components/securitySchemes/bearer/x-unused", "value": 1}],
    ),
    ("success-response", [{"set": "/paths/~1health/get/responses", "value": {"204": {"description": "empty"}}}]),
    (
        "error-envelope",
        [
            {
                "set": "/paths/~1items~1{itemId}/get/responses/404/content/application~1json/schema",
                "value": {"type": "object"},
            }
        ],
    ),
    ("path-parameter-declared", [{"remove": "/paths/~1items~1{itemId}/put/parameters"}]),
    ("component-used", [{"set": "/components/schemas/Orphan", "value": {"type": "string"}}]),
    (
        "undocumented-constraint-unknown",
        [{"set": "/components/schemas/ItemWrite/properties/kind/x-undocumented-constraints", "value": ["maxLength"]}],
    ),
]


@pytest.mark.parametrize("rule, changes", DEFECTS, ids=[d[0] for d in DEFECTS])
def test_check_reports_each_kind_of_defect(rule, changes):
    rules = {finding.rule for finding in check(apply(BASE, changes))}
    assert rule in rules, rules


def bookingkit(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bookingkit.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_cli_check_formats_and_exit_codes(tmp_path):
    assert bookingkit("spec", "check").returncode == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(apply(BASE, [{"remove": "/paths/~1health/get/summary"}])))
    text = bookingkit("spec", "check", str(broken))
    assert text.returncode == 1 and "/paths/~1health/get: operation-summary:" in text.stdout
    as_json = json.loads(bookingkit("spec", "check", str(broken), "--format", "json").stdout)
    assert as_json["findings"][0]["rule"] == "operation-summary"
    assert bookingkit("spec", "check", str(tmp_path / "missing.yaml")).returncode == 2


def test_cli_diff_formats_thresholds_and_git_sources(tmp_path):
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(yaml.safe_dump(BASE))
    new.write_text(
        yaml.safe_dump(
            apply(
                BASE, [{"remove": "/paths/~1health"}, {"set": "/paths/~1items~1{itemId}/get/description", "value": "x"}]
            )
        )
    )
    text = bookingkit("spec", "diff", str(old), str(new))
    assert text.returncode == 1 and "breaking   path-removed: /paths/~1health" in text.stdout
    assert bookingkit("spec", "diff", str(old), str(new), "--fail-on", "none").returncode == 0
    assert bookingkit("spec", "diff", str(old), str(old), "--fail-on", "any").returncode == 0
    assert json.loads(bookingkit("spec", "diff", str(old), str(new), "--format", "json").stdout)["breaking"] == 1
    assert (
        "| breaking | `path-removed` |" in bookingkit("spec", "diff", str(old), str(new), "--format", "markdown").stdout
    )
    suite = ElementTree.fromstring(bookingkit("spec", "diff", str(old), str(new), "--format", "junit").stdout)
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "old.yaml"], cwd=tmp_path, check=True)
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "base"],
        cwd=tmp_path,
        check=True,
    )
    from_git = bookingkit("spec", "diff", "git:HEAD:old.yaml", str(new), cwd=tmp_path)
    assert from_git.returncode == 1 and "path-removed" in from_git.stdout
    assert bookingkit("spec", "diff", "git:nope:old.yaml", str(new), cwd=tmp_path).returncode == 2


def test_check_reads_property_names_as_names_and_survives_foreign_patterns():
    odd = apply(
        BASE,
        [
            {"set": "/components/schemas/Item/properties/deprecated", "value": {"type": "boolean"}},
            {"set": "/components/schemas/Item/properties/nullable", "value": {"type": "integer"}},
            {
                "set": "/components/schemas/Item/example",
                "value": {"id": "1", "name": "n", "deprecated": True, "nullable": 2},
            },
        ],
    )
    assert check(odd) == []
    wrong = apply(odd, [{"set": "/components/schemas/Item/example/nullable", "value": "not-an-int"}])
    assert [f.rule for f in check(wrong)] == ["example-valid"]
    foreign = apply(
        BASE,
        [
            {"set": "/components/schemas/Item/properties/name/pattern", "value": "^\\p{L}+$"},
            {"set": "/components/schemas/Item/example", "value": {"id": "1", "name": "x"}},
            {"set": "/components/schemas/Orphan", "value": {"type": "string"}},
        ],
    )
    rules = {f.rule for f in check(foreign)}
    assert "component-used" in rules  # the other rules still ran


MARK = "x-undocumented-constraints"


def test_check_accepts_undocumented_constraints_marked_on_their_own_schema_nodes():
    marked = apply(
        BASE,
        [
            {"set": f"/components/schemas/ItemWrite/{MARK}", "value": ["additionalProperties", "required"]},
            {"set": f"/components/schemas/ItemWrite/properties/name/{MARK}", "value": ["maxLength"]},
            {"set": f"/paths/~1items~1{{itemId}}/get/parameters/1/schema/{MARK}", "value": ["minimum", "maximum"]},
            {"set": "/components/schemas/Item/properties/x-undocumented-constraints", "value": {"type": "string"}},
        ],
    )
    assert check(marked) == []


@pytest.mark.parametrize(
    "where, value, message",
    [
        ("/components/schemas/ItemWrite/properties/kind", ["maxLength"], "'maxLength' is not on this schema"),
        ("/components/schemas/ItemWrite/properties/count", "maximum", "not a non-empty list of keyword names"),
        ("/components/schemas/ItemWrite/properties/count", [], "not a non-empty list of keyword names"),
        ("/components/schemas/ItemWrite/properties/count", [{"maximum": 10}], "not a non-empty list of keyword"),
        ("/components/schemas/ItemWrite/properties/count", ["maximum", "maximum"], "'maximum' is listed twice"),
        ("/components/schemas/ItemWrite/properties/name", ["type", "description"], "'description' is not a constr"),
        ("/paths/~1items~1{itemId}/get/parameters/1", ["required"], "only a schema node can mark its constraints"),
    ],
)
def test_check_reports_a_mark_that_names_no_constraint_of_its_node(where, value, message):
    findings = check(apply(BASE, [{"set": f"{where}/{MARK}", "value": value}]))
    assert [(f.rule, f.location) for f in findings] == [("undocumented-constraint-unknown", f"{where}/{MARK}")]
    assert findings[0].message.startswith(message), findings[0].message


@pytest.mark.parametrize(
    "inner, outer, narrower",
    [
        ("^.*Z$", "Z$", True),  # the project's own change (issue 14): anchored for re.match
        ("^[A-Z]+$", "[A-Z]+$", True),
        ("^a|b", "a|b", True),  # the anchor binds to the first alternative only, which still narrows
        ("Z$", "^.*Z$", False),
        ("^[0-9]+Z$", "Z$", False),  # narrower in fact, but not provably by this rule
        (".*{2}", "{2}", False),  # a leading quantifier would bind to the prefix
        ("^(a", "(a", False),
    ],
)
def test_a_pattern_is_narrower_only_where_provable(inner, outer, narrower):
    assert within(inner, outer) is narrower


def test_messages_say_why_a_default_or_response_bound_matters():
    changed = apply(
        BASE,
        [
            {"set": "/paths/~1items~1{itemId}/get/parameters/1/schema/default", "value": 50},
            {"set": "/components/schemas/Item/properties/name/maxLength", "value": 80},
            {"set": "/paths/~1items~1{itemId}/get/operationId", "value": "fetchItem"},
        ],
    )
    messages = {c.rule: c.message for c in diff(BASE, changed)}
    assert messages["request-default-changed"] == "default 20 became 50: clients that leave it out get the new one"
    assert "values may exceed what clients validate" in messages["response-max-raised"]
    assert "generated clients rename their method" in messages["operation-id-changed"]


def test_an_openapi_31_type_list_is_a_type_change_not_a_crash():
    changed = apply(BASE, [{"set": "/components/schemas/Item/properties/name/type", "value": ["string", "null"]}])
    assert "response-type-changed" in {c.rule for c in diff(BASE, changed)}
    assert "response-type-changed" in {c.rule for c in diff(changed, BASE)}


def test_yaml_is_read_as_pyyaml_reads_it(tmp_path):
    """The fast builder (documents._yaml) against PyYAML's safe loader, on the specs and on what it hands back."""
    odd = (
        "base: &b {x: 1, y: [1, 2]}\nmerged: {<<: *b, z: 3}\nshared: *b\nwhen: 2024-01-02\nn: ~\nf: 1.5\n"
        "t: yes\ni: 0x10\ns: !!str 12\n200: {description: OK}\n"
    )
    for text in [(ROOT / "openapi.yaml").read_text(), (CORPUS / "cases.yaml").read_text(), odd, "", "- a\n- 1\n"]:
        assert repr(parse(text)) == repr(yaml.safe_load(text))
    shared = parse(odd)
    assert shared["shared"] is shared["base"]  # an alias is the same object, as PyYAML makes it
    loop = parse("a: &a [1, *a]")["a"]
    assert loop[1] is loop  # a recursive alias: left to PyYAML
    for broken in ("a: [", "a: 1\n---\nb: 2", "{[1]: 2}"):
        with pytest.raises(yaml.YAMLError):
            parse(broken)
