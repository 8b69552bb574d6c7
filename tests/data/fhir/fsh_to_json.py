"""Compile the SDOH Clinical Care IG's example instances (FSH) into FHIR JSON.

SUSHI (``fsh-sushi``) needs the FHIR core package (``hl7.fhir.r4.core``) and the
IG's own profiles; neither can be downloaded here (the FHIR package registry is
unreachable and the npm registry does not mirror them), and the shared FSH holds
only the IG's instances, not its profiles. This script is a small FSH compiler for
the subset of FSH those instance files use: assignment rules with soft indexing
(``[+]``/``[=]``), named slices, indented path rules, aliases, codes, quantities-free
primitives and ``Reference(...)``. Element types and cardinalities come from the
``fhir.resources`` R4B models, so a ``code`` / ``Coding`` / ``CodeableConcept`` is
written the way SUSHI would write it. What a profile would add by itself (fixed
values, pattern codings) is not known without the profiles and is not invented;
``meta.profile`` names the profile the instance declares.

Usage: ``python tests/data/fhir/fsh_to_json.py SRC_FSH_DIR OUT_DIR [VERSION]``
(``make fhir-fixtures`` runs it over both IG versions in shared/data).
"""

from __future__ import annotations

import importlib
import json
import re
import sys
import typing
from pathlib import Path
from typing import Any

SDOHCC = "http://hl7.org/fhir/us/sdoh-clinicalcare"
USCORE = "http://hl7.org/fhir/us/core/StructureDefinition/"

# InstanceOf → (resource type, profile canonical or None)
PROFILES: dict[str, tuple[str, str | None]] = {
    "SDOHCCConsent": ("Consent", f"{SDOHCC}/StructureDefinition/SDOHCC-Consent"),
    "SDOHCCHealthcareService": (
        "HealthcareService",
        f"{SDOHCC}/StructureDefinition/SDOHCC-HealthcareService",
    ),
    "SDOHCCHealthcareServiceForReferralManagement": (
        "HealthcareService",
        f"{SDOHCC}/StructureDefinition/SDOHCC-HealthcareServiceForReferralManagement",
    ),
    "SDOHCCProcedure": ("Procedure", f"{SDOHCC}/StructureDefinition/SDOHCC-Procedure"),
    "SDOHCCServiceRequest": (
        "ServiceRequest",
        f"{SDOHCC}/StructureDefinition/SDOHCC-ServiceRequest",
    ),
    "SDOHCCTaskForPatient": ("Task", f"{SDOHCC}/StructureDefinition/SDOHCC-TaskForPatient"),
    "SDOHCCTaskForReferralManagement": (
        "Task",
        f"{SDOHCC}/StructureDefinition/SDOHCC-TaskForReferralManagement",
    ),
    "USCorePatientProfile": ("Patient", USCORE + "us-core-patient"),
    "USCoreOrganizationProfile": ("Organization", USCORE + "us-core-organization"),
    "USCoreImmunizationProfile": ("Immunization", USCORE + "us-core-immunization"),
    "USCoreBodyHeightProfile": ("Observation", USCORE + "us-core-body-height"),
    "USCoreBodyWeightProfile": ("Observation", USCORE + "us-core-body-weight"),
    "USCoreLaboratoryResultObservationProfile": (
        "Observation",
        USCORE + "us-core-observation-lab",
    ),
}
# Names of CodeSystems defined by the IGs (FSH refers to them by name, not alias).
CODE_SYSTEMS = {
    "SDOHCCCodeSystemTemporaryCodes": f"{SDOHCC}/CodeSystem/SDOHCC-CodeSystemTemporaryCodes",
    "USCoreCategory": "http://hl7.org/fhir/us/core/CodeSystem/us-core-category",
}
# Extension slice names → extension url (the IG's extension canonicals; sub-extensions
# of a complex extension keep their local name as url).
EXTENSIONS = {
    "ForAppointment": (
        f"{SDOHCC}/StructureDefinition/SDOHCC-ExtensionHealthcareServiceTelecomAppointment"
    ),
    "capacity-status": f"{SDOHCC}/StructureDefinition/SDOHCC-ExtensionHealthcareServiceCapacity",
    "capacityStatus": "capacityStatus",
}

# What the IG's Task profiles fix on a named slice of input/output (its pattern), so an
# instance that only sets the value still carries the slice's type, as SUSHI writes it.
SLICE_PATTERNS: dict[str, dict[str, Any]] = {
    "AdditionalContent": {
        "type": {
            "coding": [
                {
                    "system": f"{SDOHCC}/CodeSystem/SDOHCC-CodeSystemTemporaryCodes",
                    "code": "additional-content",
                }
            ]
        }
    },
}

Tokens = list[tuple[str, list[str]]]


def _model(resource_type: str) -> Any:
    module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
    return getattr(module, resource_type)


def _field_type(model: Any, name: str) -> tuple[Any, bool]:
    """(element class or primitive name, is_list) of model.name."""
    fields = model.model_fields
    field = fields.get(name) or next(f for f in fields.values() if f.alias == name)
    ann = field.annotation
    is_list = False
    if typing.get_origin(ann) is not list:
        args = [a for a in typing.get_args(ann) if a is not type(None)] or [ann]
        ann = args[0]
    if typing.get_origin(ann) is list:
        is_list = True
        ann = typing.get_args(ann)[0]
    tname = getattr(ann, "__name__", str(ann))
    if tname.endswith("Type"):
        base = tname[: -len("Type")]
        cls = _resolve_class(model, base)
        if cls is not None:
            return cls, is_list
        return base[0].lower() + base[1:], is_list
    return tname, is_list


def _resolve_class(model: Any, base: str) -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    try:
        return get_fhir_model_class(base)
    except (KeyError, ValueError, AttributeError):
        return None


def split_path(path: str) -> Tokens:
    parts: Tokens = []
    for raw in re.findall(r"[^.\[\]]+(?:\[[^\]]*\])*", path):
        name = raw.split("[", 1)[0]
        parts.append((name, re.findall(r"\[([^\]]*)\]", raw)))
    return parts


class Builder:
    def __init__(self, resource_type: str, aliases: dict[str, str], names: dict[str, str]):
        self.resource_type = resource_type
        self.model = _model(resource_type)
        self.doc: dict[str, Any] = {"resourceType": resource_type}
        self.aliases = aliases
        self.names = names
        self.last: dict[tuple[int, str], int] = {}
        self.slices: dict[tuple[int, str, str], list[int]] = {}

    def _index(self, parent: dict, name: str, items: list, brackets: list[str]) -> int:
        key = (id(parent), name)
        idx_spec = [b for b in brackets if b in ("+", "=") or b.isdigit()]
        slice_names = [b for b in brackets if not (b in ("+", "=") or b.isdigit())]
        if slice_names:
            skey = (id(parent), name, slice_names[0])
            positions = self.slices.setdefault(skey, [])
            spec = idx_spec[0] if idx_spec else "0"
            slot_key = (id(positions), "slot")
            if spec == "+":
                slot = self.last.get(slot_key, -1) + 1
            elif spec == "=":
                slot = self.last.get(slot_key, 0)
            else:
                slot = int(spec)
            self.last[slot_key] = slot
            while len(positions) <= slot:
                if name == "extension":
                    items.append({"url": EXTENSIONS[slice_names[0]]})
                else:
                    items.append(json.loads(json.dumps(SLICE_PATTERNS.get(slice_names[0], {}))))
                positions.append(len(items) - 1)
            self.last[key] = positions[slot]
            return positions[slot]
        spec = idx_spec[0] if idx_spec else "0"
        if spec == "+":
            idx = self.last.get(key, -1) + 1
        elif spec == "=":
            idx = self.last.get(key, 0)
        else:
            idx = int(spec)
        self.last[key] = idx
        while len(items) <= idx:
            items.append({})
        return idx

    def assign(self, path: str, value: str | None) -> None:
        node: Any = self.doc
        model = self.model
        tokens = split_path(path)
        for i, (name, brackets) in enumerate(tokens):
            etype, is_list = _field_type(model, name)
            last = i == len(tokens) - 1
            if is_list:
                items = node.setdefault(name, [])
                idx = self._index(node, name, items, brackets)
                if last:
                    if value is not None:
                        items[idx] = self.merge(items[idx], etype, value)
                    return
                node, model = items[idx], etype
            else:
                if last:
                    if value is not None:
                        node[name] = self.merge(node.get(name, {}), etype, value)
                    else:
                        node.setdefault(name, {})
                    return
                node = node.setdefault(name, {})
                model = etype

    def merge(self, current: Any, etype: Any, raw: str) -> Any:
        tname = etype if isinstance(etype, str) else etype.__name__
        coded = self.coding(raw)
        if tname == "CodeableConcept" and coded:
            cc = current if isinstance(current, dict) else {}
            cc.setdefault("coding", []).append(coded)
            return cc
        if tname == "Coding" and coded:
            return {**(current if isinstance(current, dict) else {}), **coded}
        if tname == "Reference" and raw.startswith("Reference("):
            target = raw[len("Reference(") : -1].strip()
            return {"reference": f"{self.names.get(target, 'Resource')}/{target}"}
        if tname in ("code",) and raw.startswith("#"):
            return raw[1:].split(" ", 1)[0]
        return literal(raw)

    def coding(self, raw: str) -> dict[str, str] | None:
        m = re.match(r'^(\S*)#(\S+)(?:\s+"(.*)")?\s*$', raw)
        if not m or raw.startswith('"'):
            return None
        system, code, display = m.groups()
        out: dict[str, str] = {}
        if system:
            system = self.aliases.get(system, CODE_SYSTEMS.get(system, system))
            if "|" in system:
                system, version = system.split("|", 1)
                out["system"], out["version"] = system, version
            else:
                out["system"] = system
        out["code"] = code
        if display is not None:
            out["display"] = display
        return out


def literal(raw: str) -> Any:
    if raw.startswith('"'):
        return json.loads(raw)
    if raw in ("true", "false"):
        return raw == "true"
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if re.fullmatch(r"-?\d+\.\d+", raw):
        return float(raw)
    if raw.startswith("#"):
        return raw[1:]
    return raw


def read_aliases(path: Path) -> dict[str, str]:
    aliases = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^Alias:\s*(\S+)\s*=\s*(\S+)", line)
        if m:
            aliases[m.group(1)] = m.group(2)
    return aliases


def parse_instances(text: str) -> list[dict[str, Any]]:
    instances: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for line in text.splitlines():
        if line.strip().startswith("//") or not line.strip():
            continue
        head = re.match(r"^(Instance|InstanceOf|Title|Description|Usage):\s*(.*)$", line)
        if head:
            key, val = head.groups()
            if key == "Instance":
                current = {"Instance": val.strip(), "rules": []}
                instances.append(current)
            elif current is not None:
                current[key] = val.strip()
            continue
        rule = re.match(r"^(\s*)\*\s+(.*?)\s*$", line)
        if rule and current is not None:
            current["rules"].append((len(rule.group(1)) // 2, rule.group(2)))
    return instances


def compile_instance(
    inst: dict[str, Any], aliases: dict[str, str], names: dict[str, str], version: str
) -> dict:
    declared = inst.get("InstanceOf", "")
    base = declared.split("|", 1)[0]
    resource_type, profile = PROFILES.get(base, (base, None))
    if base.startswith(USCORE):
        resource_type = {"us-core-organization": "Organization"}[base.rsplit("/", 1)[1]]
        profile = base
    b = Builder(resource_type, aliases, names)
    b.doc["id"] = inst["Instance"]
    if profile:
        pver = declared.split("|", 1)[1] if "|" in declared else None
        b.doc["meta"] = {"profile": [f"{profile}|{pver}" if pver else profile]}
    if inst.get("Usage") == "#definition":
        b.doc["url"] = f"{SDOHCC}/{resource_type}/{inst['Instance']}"
        b.doc["version"] = version
    context: list[str] = []
    for level, text in inst["rules"]:
        path, sep, value = text.partition(" = ")
        path = path.strip()
        context = context[:level]
        b.assign(".".join([*context, path]), value.strip() if sep else None)
        # Children of a rule refer to the element it just addressed.
        context.append(path.replace("[+]", "[=]"))
    return b.doc


def main(src: str, out: str, version: str = "") -> None:
    src_dir, out_dir = Path(src), Path(out)
    aliases = read_aliases(src_dir / "aliases.fsh")
    parsed = []
    for f in sorted((src_dir / "instances").glob("*.fsh")):
        parsed.extend(parse_instances(f.read_text()))
    names = {}
    for inst in parsed:
        base = inst.get("InstanceOf", "").split("|", 1)[0]
        names[inst["Instance"]] = PROFILES.get(base, (base.rsplit("/", 1)[-1], None))[0]
        if base.startswith(USCORE):
            names[inst["Instance"]] = "Organization"
    out_dir.mkdir(parents=True, exist_ok=True)
    for inst in parsed:
        doc = compile_instance(inst, aliases, names, version)
        name = f"{doc['resourceType']}-{doc['id']}.json"
        (out_dir / name).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(parsed)} instances → {out_dir}")


if __name__ == "__main__":
    main(*sys.argv[1:])
