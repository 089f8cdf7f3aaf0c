"""A pure-Python renderer for the kustomize subset used in infra/k8s (no kubectl needed).

``tools/k8s_check.py`` uses it when kubectl is not installed. It supports exactly what this
repository's kustomizations use and fails loudly on anything else:

- ``resources`` (files and directories), ``components``, ``namespace``;
- ``configMapGenerator`` with ``envs``, ``files`` and ``literals`` and behavior create/merge/replace
  (no name hash suffix: nothing else needs renaming, and validation does not care);
- ``patches`` from ``path`` or inline ``patch``: strategic merge (maps merge, lists of maps merge
  by ``name`` with new items first, other lists are replaced; with a ``target`` the patch's own
  name is ignored) or JSON 6902 operations add/replace/remove, with an optional ``target`` of kind,
  name (regex) and ``labelSelector`` (``k=v,...``);
- ``replicas`` and ``images`` (``newName``, ``newTag``, ``digest``).

tests/infra checks that it renders the same objects as ``kubectl kustomize`` (modulo name hashes).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]
SUPPORTED = {"apiVersion", "kind", "resources", "components", "namespace", "configMapGenerator"}
SUPPORTED |= {"patches", "replicas", "images"}
CLUSTER_SCOPED = {"Namespace", "RuntimeClass", "ClusterRole", "ClusterRoleBinding", "StorageClass"}
CLUSTER_SCOPED |= {"PriorityClass", "CustomResourceDefinition", "PersistentVolume"}


class KustomizeError(ValueError):
    """The kustomization uses something this renderer does not support, or is inconsistent."""


def load_documents(path: Path) -> list[Any]:
    """Every YAML document of a file, empty ones dropped."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def render(root: Path, objs: list[Obj] | None = None) -> list[Obj]:
    """Render the kustomization in directory ``root`` (``objs``: the parent's, for a component)."""
    kust = yaml.safe_load((root / "kustomization.yaml").read_text()) or {}
    unsupported = set(kust) - SUPPORTED
    if unsupported:
        raise KustomizeError(f"{root}: the built-in renderer does not support {sorted(unsupported)}")
    out: list[Obj] = list(objs or [])
    for entry in kust.get("resources", []):
        path = root / entry
        out += render(path) if path.is_dir() else load_documents(path)
    for entry in kust.get("components", []):
        out = render(root / entry, out)
    for gen in kust.get("configMapGenerator", []):
        _generate_configmap(root, gen, out)
    for patch in kust.get("patches", []):
        _apply_patch(root, patch, out)
    _transform(kust, out)
    return out


def _transform(kust: Obj, out: list[Obj]) -> None:
    """The ``replicas``, ``images`` and ``namespace`` transformers."""
    for rep in kust.get("replicas", []):
        for obj in out:
            if obj["kind"] in ("Deployment", "StatefulSet") and obj["metadata"]["name"] == rep["name"]:
                obj["spec"]["replicas"] = rep["count"]
    for image in kust.get("images", []):
        for obj in out:
            for container in _containers(obj):
                container["image"] = retag(container["image"], image)
    if "namespace" in kust:
        for obj in out:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = kust["namespace"]


def _containers(obj: Obj) -> list[Obj]:
    pod = obj.get("spec", {}).get("template", {}).get("spec", {})
    containers: list[Obj] = pod.get("initContainers", []) + pod.get("containers", [])
    return containers


def _generate_configmap(root: Path, gen: Obj, objs: list[Obj]) -> None:
    data: dict[str, str] = {}
    for env_file in gen.get("envs", []):
        for line in (root / env_file).read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                data[key.strip()] = value
    for entry in gen.get("files", []):
        key, _, rel = entry.rpartition("=")
        data[key or Path(rel).name] = (root / rel).read_text()
    for literal in gen.get("literals", []):
        key, _, value = literal.partition("=")
        data[key] = value
    behavior = gen.get("behavior", "create")
    found = [o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"] == gen["name"]]
    if behavior == "create":
        objs.append(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": gen["name"]}, "data": data}
        )
    elif not found:
        raise KustomizeError(f"{root}: configMapGenerator {gen['name']}: nothing to {behavior}")
    else:
        found[0]["data"] = {**found[0].get("data", {}), **data} if behavior == "merge" else data


def matches(obj: Obj, target: Obj) -> bool:
    """Whether ``obj`` is selected by a kustomize patch ``target``."""
    meta = obj.get("metadata", {})
    if "kind" in target and obj.get("kind") != target["kind"]:
        return False
    if "name" in target and not re.fullmatch(target["name"], meta.get("name", "")):
        return False
    labels = meta.get("labels", {})
    for term in filter(None, target.get("labelSelector", "").split(",")):
        key, _, value = term.partition("=")
        if labels.get(key.strip()) != value.strip():
            return False
    return True


def _apply_patch(root: Path, spec: Obj, objs: list[Obj]) -> None:
    text = spec["patch"] if "patch" in spec else (root / spec["path"]).read_text()
    docs = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    target = spec.get("target")
    json_patch = len(docs) == 1 and isinstance(docs[0], list)
    for doc in docs:
        if target:
            selector = target
        elif json_patch:
            raise KustomizeError(f"{root}: a JSON 6902 patch needs a target")
        else:
            selector = {"kind": doc["kind"], "name": re.escape(doc["metadata"]["name"])}
        hits = [o for o in objs if matches(o, selector)]
        if not hits:
            raise KustomizeError(f"{root}: patch {spec.get('path', '<inline>')} matches no object")
        for obj in hits:
            if json_patch:
                json6902(obj, doc)
            else:
                body = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")}
                obj.update(merge(obj, body))


def merge(base: Any, patch: Any) -> Any:
    """Strategic-merge-like: maps merge (``null`` deletes), lists of maps merge by ``name``."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = merge(out[key], value) if key in out else copy.deepcopy(value)
        return out
    lists = isinstance(base, list) and isinstance(patch, list)
    if lists and all(isinstance(item, dict) and "name" in item for item in [*base, *patch]):
        merged = [copy.deepcopy(item) for item in base]
        added = []  # items new to the list come first, in the patch's order (as kustomize does)
        for item in patch:
            idx = next((n for n, old in enumerate(merged) if old["name"] == item["name"]), None)
            if idx is None:
                added.append(copy.deepcopy(item))
            else:
                merged[idx] = merge(merged[idx], item)
        return added + merged
    return copy.deepcopy(patch)


def json6902(obj: Obj, ops: list[Obj]) -> None:
    """Apply JSON patch operations add, replace and remove to ``obj`` in place."""
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].lstrip("/").split("/")]
        parent: Any = obj
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        key: Any = parts[-1]
        if isinstance(parent, list):
            key = len(parent) if key == "-" else int(key)
        elif op["op"] in ("replace", "remove") and key not in parent:
            raise KustomizeError(f"{obj['kind']}/{obj['metadata']['name']}: no {op['path']} to {op['op']}")
        if op["op"] == "remove":
            del parent[key]
        elif op["op"] == "add" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(op["value"]))
        elif op["op"] in ("add", "replace"):
            parent[key] = copy.deepcopy(op["value"])
        else:
            raise KustomizeError(f"unsupported JSON patch operation {op['op']}")


def retag(image: str, rule: Obj) -> str:
    """Apply one kustomize ``images`` entry to an image reference."""
    name, _, digest = image.partition("@")
    tag = ""
    if ":" in name.rsplit("/", 1)[-1]:
        name, tag = name.rsplit(":", 1)
    if name != rule["name"]:
        return image
    name = str(rule.get("newName", name))
    if "digest" in rule:
        return f"{name}@{rule['digest']}"
    if "newTag" in rule:
        return f"{name}:{rule['newTag']}"
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
