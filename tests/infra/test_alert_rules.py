"""The Prometheus alert rules (infra/prometheus/alerts.yml) and the Grafana dashboards
(infra/grafana/*.json): well formed, and every expression names only metrics the services really
export (or Prometheus's own ``up``). promtool is not installable from PyPI, so this structure check
is what CI runs instead of ``promtool check rules``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "infra" / "prometheus" / "alerts.yml"
DECLARED = re.compile(r"\b(Counter|Gauge|Histogram|Summary)\(\s*\"(tl_[a-z0-9_]+)\"", re.MULTILINE)
IDENTIFIER = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b\s*(\{|\[|\)|\s|$)")
PROMQL_WORDS = {"max", "min", "sum", "avg", "count", "by", "without", "rate", "increase", "irate",
                "histogram_quantile", "and", "or", "unless", "on", "ignoring", "bool", "le"}  # fmt: skip
SUFFIXES = {"Counter": ("_total",), "Gauge": ("",), "Histogram": ("_bucket", "_sum", "_count"),
            "Summary": ("_sum", "_count")}  # fmt: skip


def exported_metrics() -> set[str]:
    """Every sample name a service's /metrics carries, from the prometheus_client declarations."""
    names = {"up"}
    for source in [*ROOT.glob("services/*/src/**/*.py"), *ROOT.glob("libs/*/src/**/*.py")]:
        for kind, name in DECLARED.findall(source.read_text()):
            names |= {name + suffix for suffix in SUFFIXES[kind]}
    return names


def metric_names(expr: str) -> set[str]:
    without_labels = re.sub(r"\{[^}]*\}", "{}", re.sub(r"\[[^\]]*\]", "[]", expr))
    without_groups = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", without_labels)
    found = {m.group(1) for m in IDENTIFIER.finditer(without_groups)}
    return {name for name in found if name not in PROMQL_WORDS and not re.fullmatch(r"[0-9.]+", name)}


def test_every_rule_is_complete_and_names_exported_metrics() -> None:
    document = yaml.safe_load(RULES.read_text())
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    assert {rule["alert"] for rule in rules} >= {
        "TradeloomServiceDown",
        "TradeloomConsumerLag",
        "TradeloomOrdersRejected",
        "TradeloomGlobalHalt",
    }
    exported = exported_metrics()
    assert "tl_consumer_pending" in exported and "tl_consumer_dead_letters_total" in exported
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        names = metric_names(rule["expr"])
        assert names and names <= exported, (rule["alert"], names - exported)


def test_the_name_check_catches_a_metric_nobody_exports() -> None:
    assert metric_names("sum by (consumer) (rate(tl_nothing_total[5m])) > 1") == {"tl_nothing_total"}
    assert "tl_nothing_total" not in exported_metrics()


def test_the_grafana_dashboards_are_well_formed_and_query_exported_metrics() -> None:
    exported = exported_metrics()
    dashboards = sorted((ROOT / "infra" / "grafana").glob("*.json"))
    assert dashboards
    for path in dashboards:
        dashboard = json.loads(path.read_text())
        assert dashboard["title"] and dashboard["uid"] and dashboard["panels"], path.name
        assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"]), path.name
        for panel in dashboard["panels"]:
            assert panel["title"] and panel["targets"], (path.name, panel)
            for target in panel["targets"]:
                names = metric_names(target["expr"])
                assert names and names <= exported, (path.name, panel["title"], names - exported)
