"""Render and check the Kubernetes manifests in infra/k8s (``make k8s-check``).

For each overlay: render it (``kubectl kustomize`` when kubectl is on PATH, otherwise the built-in
renderer infra/k8s/kustomize_lite.py), validate every object offline against the Kubernetes JSON
schemas shipped by ``kubernetes-validate``, then apply Tradeloom's policy rules (hardened pods,
migrate init containers, default-deny network policies, HPAs, no committed secrets, durable NATS).
Exits 1 naming the object and the rule of every violation. The functions are importable.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import yaml

from tradeloom.shared.nats_config import MAX_PAYLOAD

ROOT = Path(__file__).resolve().parents[1]
K8S_DIR = ROOT / "infra" / "k8s"
OVERLAYS = ("dev", "prod")
K8S_VERSION = "1.31"  # oldest Kubernetes minor we support; kubernetes-validate ships 1.25 and later
FALLBACK_MESSAGE = (
    "kubectl not found: validating base/overlay YAML files directly without kustomize rendering"
)
SERVICES = (
    "gateway-auth", "market-data", "order-router", "risk-monitor",
    "backtest-engine", "analytics", "sandbox-executor", "strategy-runner",
)  # fmt: skip
GATEWAY = "gateway-auth"
HPA_SERVICES = ("backtest-engine", "sandbox-executor")
SECRET_NAME = "tradeloom-secrets"  # noqa: S105 - the Secret's name, not a value
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
# What a service pod may send to: (pod label app.kubernetes.io/name or namespace name, port).
SERVICE_EGRESS = {("nats", 4222), ("timescaledb", 5432), ("kube-system", 53)}
MONITORING = {"kubernetes.io/metadata.name": "monitoring"}
METRICS_PORTS = {8081, 8222}
NAME_LABEL = "app.kubernetes.io/name"
Obj = dict[str, Any]


@dataclass(frozen=True)
class Violation:
    """One broken rule: ``obj`` is ``Kind/name``, ``rule`` a short rule id."""

    obj: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.obj}: [{self.rule}] {self.detail}"


class RenderError(RuntimeError):
    """``kubectl kustomize`` failed."""


def _load(path: Path) -> ModuleType:
    """A module loaded by path (infra/ is not a Python package; tools/ runs as a script too)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kustomize_lite = _load(K8S_DIR / "kustomize_lite.py")
security = _load(Path(__file__).with_name("k8s_check_security.py"))


def ref(obj: Obj) -> str:
    """``Kind/name`` of an object."""
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def find_kubectl() -> str | None:
    """Path of kubectl, or None when it is not installed."""
    return shutil.which("kubectl")


def render_fallback(path: Path) -> list[Obj]:
    """Render a kustomization with the built-in renderer (infra/k8s/kustomize_lite.py)."""
    objs: list[Obj] = kustomize_lite.render(path)
    return objs


def render(path: Path, kubectl: str | None = None) -> list[Obj]:
    """Render a kustomization with kubectl when given, else with :func:`render_fallback`."""
    if kubectl is None:
        return render_fallback(path)
    cmd = [kubectl, "kustomize", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise RenderError(f"kubectl kustomize {path} failed: {proc.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def schema_violations(objs: list[Obj], version: str = K8S_VERSION) -> list[Violation]:
    """Validate every object (strict: unknown fields fail) against the Kubernetes schemas."""
    found: list[Violation] = []
    for obj in objs:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path) or "<root>"
            found.append(Violation(ref(obj), "schema", f"{where}: {exc.message}"))
        except kubernetes_validate.SchemaNotFoundError as exc:
            found.append(Violation(ref(obj), "schema", exc.message))
    return found


def _pod(obj: Obj) -> Obj:
    spec: Obj = obj.get("spec", {})
    pod: Obj = spec.get("jobTemplate", {}).get("spec", spec).get("template", {}).get("spec", {})
    return pod


def _containers(obj: Obj, init: bool = True) -> list[Obj]:
    pod = _pod(obj)
    containers: list[Obj] = (pod.get("initContainers", []) if init else []) + pod.get("containers", [])
    return containers


def _port_of(container: Obj, port: Any) -> Any:
    named = {p.get("name"): p.get("containerPort") for p in container.get("ports", [])}
    return named.get(port, port)


def container_violations(obj: Obj) -> list[Violation]:
    """Hardening rules for every container of a workload, and probes for Deployment containers."""
    found: list[Violation] = []
    pod_sc = _pod(obj).get("securityContext", {})
    for c in _containers(obj):
        sc = c.get("securityContext", {})
        res = c.get("resources", {})
        wanted = [f"{k}.{r}" for k in ("requests", "limits") for r in ("cpu", "memory")]
        missing = [w for w in wanted if w.split(".")[1] not in res.get(w.split(".")[0], {})]
        seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {})).get("type")
        image = c.get("image", "")
        untagged = ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")
        broken = {
            "resources": f"missing {', '.join(missing)}" if missing else "",
            "runAsNonRoot": sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True,
            "readOnlyRootFilesystem": sc.get("readOnlyRootFilesystem") is not True,
            "allowPrivilegeEscalation": sc.get("allowPrivilegeEscalation") is not False,
            "privileged": bool(sc.get("privileged")),
            "capabilities": "ALL" not in sc.get("capabilities", {}).get("drop", []),
            "seccompProfile": seccomp not in ("RuntimeDefault", "Localhost"),
            "image-tag": "@" not in image and untagged,
        }
        for rule, problem in broken.items():
            if problem:
                detail = problem if isinstance(problem, str) else RULES[rule]
                found.append(Violation(ref(obj), rule, f"container {c['name']}: {detail}"))
    if obj["kind"] == "Deployment":
        for c in _containers(obj, init=False):
            for probe in ("readinessProbe", "livenessProbe"):
                if probe not in c:
                    found.append(Violation(ref(obj), probe, f"container {c['name']}: missing {probe}"))
    return found


RULES = {
    "runAsNonRoot": "securityContext.runAsNonRoot must be true",
    "readOnlyRootFilesystem": "securityContext.readOnlyRootFilesystem must be true",
    "allowPrivilegeEscalation": "securityContext.allowPrivilegeEscalation must be false",
    "privileged": "privileged containers are not allowed",
    "capabilities": "securityContext.capabilities.drop must contain ALL",
    "seccompProfile": "seccompProfile must be RuntimeDefault (or Localhost)",
    "image-tag": "the image needs an explicit tag other than latest (or a digest)",
}


def service_violations(objs: list[Obj]) -> list[Violation]:
    """The eight service Deployments: present with a Service, uid 10001, migrate init, probes, secret."""
    found: list[Violation] = []
    deployments = {o["metadata"]["name"]: o for o in objs if o["kind"] == "Deployment"}
    services = {o["metadata"]["name"] for o in objs if o["kind"] == "Service"}
    for name in SERVICES:
        obj = deployments.get(name)
        if obj is None:
            found.append(Violation(f"Deployment/{name}", "service-missing", "no Deployment"))
            continue
        if name not in services:
            found.append(Violation(f"Service/{name}", "service-missing", "no Service for the Deployment"))
        pod = _pod(obj)
        for c in _containers(obj):
            uid = c.get("securityContext", {}).get(
                "runAsUser", pod.get("securityContext", {}).get("runAsUser")
            )
            if uid != 10001:
                found.append(Violation(ref(obj), "runAsUser", f"container {c['name']}: must run as 10001"))
        migrate = ["python", "-m", f"tradeloom.{name.replace('-', '_')}", "migrate"]
        if not any(
            c.get("command", []) + c.get("args", []) == migrate for c in pod.get("initContainers", [])
        ):
            found.append(Violation(ref(obj), "migrate-init", f"needs an initContainer `{' '.join(migrate)}`"))
        for c in _containers(obj, init=False):
            for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
                get = c.get(probe, {}).get("httpGet", {})
                if get and (get.get("path") != path or _port_of(c, get.get("port")) != 8081):
                    found.append(
                        Violation(ref(obj), probe, f"container {c['name']}: must GET {path} on 8081")
                    )
        if not any(v.get("secret", {}).get("secretName") == SECRET_NAME for v in pod.get("volumes", [])):
            found.append(
                Violation(ref(obj), "secret-env", f"must mount Secret {SECRET_NAME} (TL_SECRETS_DIR)")
            )
    return found


def selects(selector: Obj | None, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) selects ``labels``."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        has, value, values = expr["key"] in labels, labels.get(expr["key"]), expr.get("values", [])
        ok = {"In": value in values, "NotIn": value not in values, "Exists": has, "DoesNotExist": not has}
        if not ok[expr["operator"]]:
            return False
    return True


def _ports(rule: Obj) -> set[Any]:
    return {p.get("port") for p in rule.get("ports") or []} or {"any"}


def _external_ingress_ok(spec: Obj, rule: Obj) -> bool:
    """An ingress rule is fine if it admits only namespace pods, monitoring on metrics ports, or is
    the gateway's public port."""
    peers = rule.get("from") or []
    if peers and all("ipBlock" not in p and "namespaceSelector" not in p for p in peers):
        return True
    from_monitoring = all((p.get("namespaceSelector") or {}).get("matchLabels") == MONITORING for p in peers)
    if peers and from_monitoring and _ports(rule) <= METRICS_PORTS:
        return True
    gateway = (spec.get("podSelector") or {}).get("matchLabels") == {NAME_LABEL: GATEWAY}
    return gateway and _ports(rule) == {8080}


def _egress_ok(rule: Obj) -> bool:
    for peer in rule.get("to") or [{}]:
        if "ipBlock" in peer:
            return False
        if "namespaceSelector" in peer:
            dest = (peer["namespaceSelector"] or {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
        else:
            dest = (peer.get("podSelector") or {}).get("matchLabels", {}).get(NAME_LABEL)
        if not all((dest, port) in SERVICE_EGRESS for port in _ports(rule)):
            return False
    return True


def network_violations(objs: list[Obj]) -> list[Violation]:
    """Default deny; only the gateway open to the outside; services egress only to NATS/DB/DNS."""
    found: list[Violation] = []
    policies = [o for o in objs if o["kind"] == "NetworkPolicy"]
    deny_all = [
        p
        for p in policies
        if not (p["spec"].get("podSelector") or {})
        and {"Ingress", "Egress"} <= set(p["spec"].get("policyTypes", []))
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    if not deny_all:
        found.append(Violation("NetworkPolicy/*", "default-deny", "no default-deny of Ingress and Egress"))
    pods = {
        o["metadata"]["name"]: o["spec"]["template"]["metadata"].get("labels", {})
        for o in objs
        if o["kind"] == "Deployment" and o["metadata"]["name"] in SERVICES
    }
    for pol in policies:
        spec = pol["spec"]
        if not all(_external_ingress_ok(spec, rule) for rule in spec.get("ingress") or []):
            detail = f"only {GATEWAY}:8080 may accept ingress from outside the namespace"
            found.append(Violation(ref(pol), "ingress-from-outside", detail))
        for svc, labels in pods.items():
            if selects(spec.get("podSelector"), labels) and not all(
                map(_egress_ok, spec.get("egress") or [])
            ):
                detail = f"{svc} may only reach NATS 4222, Postgres 5432 and DNS 53"
                found.append(Violation(ref(pol), "service-egress", detail))
    return found


def platform_violations(objs: list[Obj], overlay: str) -> list[Violation]:
    """HPAs for the work-queue services, no committed Secret data, durable NATS."""
    found: list[Violation] = []
    kinds: dict[str, dict[str, Obj]] = {}
    for obj in objs:
        kinds.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
    hpas = {o["spec"]["scaleTargetRef"]["name"]: o for o in kinds.get("HorizontalPodAutoscaler", {}).values()}
    for name in HPA_SERVICES:
        hpa = hpas.get(name, {"apiVersion": None})
        if hpa["apiVersion"] != "autoscaling/v2" or hpa["spec"]["scaleTargetRef"]["kind"] != "Deployment":
            found.append(Violation(f"HorizontalPodAutoscaler/{name}", "hpa", "needs an autoscaling/v2 HPA"))
        if "replicas" in kinds.get("Deployment", {}).get(name, {}).get("spec", {}):
            found.append(Violation(f"Deployment/{name}", "hpa", "leave spec.replicas to the HPA"))
    for obj in kinds.get("Secret", {}).values():
        if (obj.get("data") or obj.get("stringData")) and overlay != "dev":
            found.append(Violation(ref(obj), "secret-in-git", "Secret data must not be in git (README.md)"))
    confs = [
        c.get("data", {}).get("nats.conf", "") for n, c in kinds.get("ConfigMap", {}).items() if "nats" in n
    ]
    if not confs or not all(re.search(r"jetstream\s*\{[^}]*sync_interval:\s*always\b", c) for c in confs):
        found.append(
            Violation("ConfigMap/nats-config", "nats-durability", "needs jetstream sync_interval: always")
        )
    limit = f"max_payload: {MAX_PAYLOAD}"
    if not all(re.search(rf"^{limit}$", c, re.MULTILINE) for c in confs):
        found.append(Violation("ConfigMap/nats-config", "nats-max-payload", f"needs {limit} (nats_config)"))
    if not kinds.get("StatefulSet", {}).get("nats", {}).get("spec", {}).get("volumeClaimTemplates"):
        found.append(
            Violation("StatefulSet/nats", "nats-durability", "JetStream needs a volumeClaimTemplate")
        )
    return found


def policy_violations(objs: list[Obj], overlay: str = "prod") -> list[Violation]:
    """Every policy rule over the objects of one rendered overlay."""
    found = [v for obj in objs if obj["kind"] in WORKLOADS for v in container_violations(obj)]
    return found + service_violations(objs) + network_violations(objs) + platform_violations(objs, overlay)


def nats_config_violations(objs: list[Obj]) -> list[Violation]:
    """``nats-server -t`` on each NATS config, when a nats-server binary is installed (dev venv)."""
    return [Violation(*error) for error in security.nats_config_errors(objs)]


def security_violations(objs: list[Obj], overlay: str) -> list[Violation]:
    """NATS users from the permission map in every overlay; TLS to NATS in production."""
    found = security.nats_auth_errors(objs, SERVICES)
    return [
        Violation(*error)
        for error in found + (security.tls_errors(objs, SERVICES) if overlay == "prod" else [])
    ]


def check_overlay(name: str, kubectl: str | None) -> tuple[list[Obj], list[Violation]]:
    """Render one overlay; return its objects and every violation found."""
    objs = render(K8S_DIR / "overlays" / name, kubectl)
    found = schema_violations(objs) + policy_violations(objs, name) + nats_config_violations(objs)
    return objs, found + security_violations(objs, name)


def yaml_violations(root: Path | None = None) -> list[Violation]:
    """Every YAML file under infra/k8s parses, also the ones no overlay uses (components)."""
    found = []
    for path in sorted((root or K8S_DIR).rglob("*.y*ml")):
        try:
            kustomize_lite.load_documents(path)
        except yaml.YAMLError as exc:
            found.append(Violation(str(path), "yaml", str(exc).replace("\n", " ")))
    return found


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description="Render and check infra/k8s overlays.")
    parser.add_argument("overlays", nargs="*", default=list(OVERLAYS), help="overlay names (default: all)")
    parser.add_argument("--no-kubectl", action="store_true", help="use the built-in renderer")
    args = parser.parse_args(argv)
    kubectl = None if args.no_kubectl else find_kubectl()
    if kubectl is None:
        print("--no-kubectl: using the built-in renderer" if args.no_kubectl else FALLBACK_MESSAGE)
    failures = yaml_violations()
    for name in args.overlays:
        try:
            objs, found = check_overlay(name, kubectl)
        except (RenderError, ValueError, OSError, yaml.YAMLError, KeyError) as exc:
            failures.append(Violation(f"overlay/{name}", "render", str(exc)))
            continue
        how = "kubectl kustomize" if kubectl else "built-in renderer"
        state = f"{len(found)} violation(s)" if found else "schemas and policy OK"
        print(f"k8s-check: overlay {name}: {len(objs)} objects ({how}), Kubernetes {K8S_VERSION}: {state}")
        failures += found
    for violation in failures:
        print(f"ERROR {violation}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
