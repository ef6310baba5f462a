"""The XSD of a contract, generated from its pydantic-xml payload models (the one source of truth).

The models say everything the schema says: pydantic-xml's serializer tree gives the XML layout (element,
attribute or text; tag; wrapper elements; repetition), and pydantic's JSON schema gives each value's type
and facets (``pattern``, ``min_length``/``max_length``, ``ge``/``le``, enumerations, dates, base64). A
rule the JSON schema cannot see (a custom validator) is stated for the schema with pydantic's
``WithJsonSchema``; rules between fields stay in the model (and its docstring says them).

Invariants of the generated document: one target namespace, the models' own; a global element per root
model (the contracts' payloads), a named complex type per model class and a named simple type per enum
class; element order is field order; patterns are the models' anchored patterns (``^...$``) without
their anchors, since XSD patterns always match the whole value. The output is deterministic, so a
committed XSD can be compared byte for byte with what the models generate now.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import lxml.etree as etree
from pydantic_xml import BaseXmlModel
from pydantic_xml.serializers.factories import homogeneous, model, primitive, wrapper

XS_NS = "http://www.w3.org/2001/XMLSchema"
_XS = "{" + XS_NS + "}"
_UNSUPPORTED_REGEX = ("(?", "\\A", "\\Z", "\\z", "\\b", "\\B")

JsonSchema = dict[str, Any]

CHOICE_KEY = "xsdChoice"
"""A model whose ``json_schema_extra`` holds ``{"xsdChoice": [TAG, ...]}`` (the tags of consecutive element
fields of which exactly one is present, as its validator checks) publishes them as one ``xs:choice``."""


XSD_TYPE_KEY = "xsdType"


@dataclass(frozen=True)
class XsdType:
    """``Annotated`` metadata: publish this value type as the named simple type ``name``.

    ``pattern`` (anchored, ``^...$``), ``min_length`` and ``max_length`` state for the XSD lexical rules
    that pydantic's JSON schema cannot see: rules the model checks in code (an ``AfterValidator``), or
    rules a contract leaves to the XSD check of both ends. Validation in Python is unchanged.
    """

    name: str
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> JsonSchema:
        schema: JsonSchema = dict(handler(core_schema))
        schema[XSD_TYPE_KEY] = self.name
        for key, value in (
            ("pattern", self.pattern),
            ("minLength", self.min_length),
            ("maxLength", self.max_length),
        ):
            if value is not None:
                schema[key] = value
        return schema


class SchemaGenerationError(ValueError):
    """The models use something an XSD cannot state (or the generator does not know yet)."""


def generate_xsd(roots: Sequence[type[BaseXmlModel]], *, header: str = "", documentation: str = "") -> bytes:
    """The XSD whose global elements are ``roots`` (in this order), as UTF-8 bytes."""
    if not roots:
        raise SchemaGenerationError("no payload models to publish")
    return _Generator(roots, header, documentation).document()


def _local(qualified: str) -> tuple[str | None, str]:
    qname = etree.QName(qualified)
    return qname.namespace, qname.localname


def _namespace_of(payload: type[BaseXmlModel]) -> str | None:
    prefix: str | None = payload.__xml_ns__
    nsmap: dict[str, str] = dict(payload.__xml_nsmap__ or {})
    return nsmap.get(prefix if prefix is not None else "")


def xsd_pattern(pattern: str, where: str) -> str:
    """A model's anchored regular expression as an XSD pattern (implicitly anchored)."""
    if not (pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")):
        raise SchemaGenerationError(f"{where}: anchor the pattern as ^...$ so model and XSD agree: {pattern}")
    body = pattern[1:-1]
    for construct in _UNSUPPORTED_REGEX:
        if construct in body:
            raise SchemaGenerationError(f"{where}: XSD patterns have no {construct}: {pattern}")
    return body


class _Generator:
    def __init__(self, roots: Sequence[type[BaseXmlModel]], header: str, documentation: str) -> None:
        self._roots = list(dict.fromkeys(roots))
        self._header = header
        self._documentation = documentation
        self._namespace = _namespace_of(self._roots[0])
        if not self._namespace:
            raise SchemaGenerationError(f"{self._roots[0].__name__} has no namespace")
        self._types: dict[str, etree._Element] = {}  # complex and enum types by name, in first-use order
        self._models: dict[str, type[BaseXmlModel]] = {}
        self._defs: JsonSchema = {}

    def document(self) -> bytes:
        root = etree.Element(
            _XS + "schema",
            nsmap={"xs": XS_NS, None: self._namespace},  # type: ignore[dict-item]
            targetNamespace=self._namespace or "",
            elementFormDefault="qualified",
            attributeFormDefault="unqualified",
        )
        if self._documentation:
            _document(root, self._documentation)
        elements = []
        for payload in self._roots:
            if _namespace_of(payload) != self._namespace:
                raise SchemaGenerationError(f"{payload.__name__} is not in {self._namespace}")
            tag = payload.__xml_tag__ or payload.__name__
            elements.append(etree.Element(_XS + "element", name=tag, type=self._complex_type(payload)))
        root.extend(elements)
        root.extend(self._types.values())
        if self._header:
            root.addprevious(etree.Comment(f"\n  {self._header.strip()}\n"))
        text = etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=True, pretty_print=True)
        return text

    # Complex types: one per model class.

    def _complex_type(self, payload: type[BaseXmlModel]) -> str:
        name = payload.__name__
        known = self._models.get(name)
        if known is payload:
            return name
        if known is not None:
            raise SchemaGenerationError(f"two payload classes are named {name}")
        self._models[name] = payload
        node = etree.Element(_XS + "complexType", name=name)
        self._types[name] = node
        schema = payload.model_json_schema(ref_template="#/$defs/{model}")
        self._defs.update(schema.get("$defs", {}))
        if schema.get("description"):
            _document(node, schema["description"])
        serializer: Any = payload.__xml_serializer__
        if serializer is None:
            raise SchemaGenerationError(f"{name} is not a complete pydantic-xml model")
        fields: dict[str, Any] = serializer._field_serializers
        required = set(schema.get("required", []))
        particles: list[etree._Element] = []
        attributes: list[etree._Element] = []
        text: JsonSchema | None = None
        for field, field_serializer in fields.items():
            where = f"{name}.{field}"
            field_schema = schema["properties"][field]
            if isinstance(field_serializer, primitive.AttributeSerializer):
                attributes.append(self._attribute(field_serializer, field_schema, field in required, where))
            elif type(field_serializer) is primitive.TextSerializer:
                text = field_schema
            else:
                particles.append(self._particle(field_serializer, field_schema, field in required, where))
        if text is not None:
            if particles:
                raise SchemaGenerationError(f"{name} mixes text with child elements")
            content = etree.SubElement(node, _XS + "simpleContent")
            extension = etree.SubElement(content, _XS + "extension", base=self._named_text(name, text))
            extension.extend(attributes)
            return name
        if particles:
            sequence = etree.SubElement(node, _XS + "sequence")
            sequence.extend(_with_choice(particles, schema.get(CHOICE_KEY), name))
        node.extend(attributes)
        return name

    def _named_text(self, owner: str, schema: JsonSchema) -> str:
        """Text content must extend a named simple type: the text's own, or ``<Owner>Value``."""
        simple = self._simple(schema, f"{owner} text")
        if isinstance(simple, str):
            return simple
        name = f"{owner}Value"
        simple.set("name", name)
        self._types[name] = simple
        return name

    def _particle(self, serializer: Any, schema: JsonSchema, required: bool, where: str) -> etree._Element:
        schema, _ = _unwrap_optional(schema)
        if isinstance(serializer, wrapper.ElementPathSerializer):
            path = [self._local_name(part, where) for part in serializer._path]
            inner = self._particle(serializer._inner_serializer, schema, required, where)
            outer = etree.Element(_XS + "element", name=path[0])
            if not required and inner.get("minOccurs") == "0":
                outer.set("minOccurs", "0")
            current = outer
            for name in path[1:]:
                sequence = etree.SubElement(etree.SubElement(current, _XS + "complexType"), _XS + "sequence")
                current = etree.SubElement(sequence, _XS + "element", name=name)
            sequence = etree.SubElement(etree.SubElement(current, _XS + "complexType"), _XS + "sequence")
            sequence.append(inner)
            return outer
        if isinstance(serializer, homogeneous.ElementSerializer):
            if schema.get("type") != "array":
                raise SchemaGenerationError(f"{where}: a repeated element needs a list type")
            node = self._particle(serializer._inner_serializer, schema["items"], True, where)
            minimum, maximum = schema.get("minItems", 0), schema.get("maxItems")
            if minimum != 1:
                node.set("minOccurs", str(minimum))
            node.set("maxOccurs", "unbounded" if maximum is None else str(maximum))
            return node
        if isinstance(serializer, model.ModelProxySerializer):
            name = self._local_name(serializer._element_name, where)
            node = etree.Element(_XS + "element", name=name, type=self._complex_type(serializer._model))
        elif isinstance(serializer, primitive.ElementSerializer):
            name = self._local_name(serializer._element_name, where)
            node = etree.Element(_XS + "element", name=name)
            _typed(node, self._simple(schema, where))
        else:
            raise SchemaGenerationError(f"{where}: {type(serializer).__name__} fields are not supported")
        if not required:
            node.set("minOccurs", "0")
        if schema.get("description"):
            _document(node, schema["description"])
        return node

    def _attribute(self, serializer: Any, schema: JsonSchema, required: bool, where: str) -> etree._Element:
        schema, _ = _unwrap_optional(schema)
        name = serializer._attr_name
        if etree.QName(name).namespace is not None:
            raise SchemaGenerationError(f"{where}: qualified attributes are not supported")
        node = etree.Element(_XS + "attribute", name=name)
        _typed(node, self._simple(schema, where))
        node.set("use", "required" if required else "optional")
        return node

    def _local_name(self, qualified: str, where: str) -> str:
        namespace, name = _local(qualified)
        if namespace != self._namespace:
            raise SchemaGenerationError(f"{where}: element {qualified} is outside {self._namespace}")
        return name

    # Simple types: a built-in name, a named enum type, or an anonymous restriction.

    def _simple(self, schema: JsonSchema, where: str) -> str | etree._Element:
        schema, _ = _unwrap_optional(schema)
        name = schema.get(XSD_TYPE_KEY)
        if name is None:
            return self._anonymous(schema, where)
        simple = self._anonymous(schema, where)
        if isinstance(simple, str):
            simple = _restriction(simple, [])
        simple.set("name", name)
        known = self._types.get(name)
        if known is None:
            self._types[name] = simple
        elif etree.tostring(known) != etree.tostring(simple):
            raise SchemaGenerationError(f"{where}: two different simple types are named {name}")
        return str(name)

    def _anonymous(self, schema: JsonSchema, where: str) -> str | etree._Element:
        if "$ref" in schema:
            return self._enum_type(schema["$ref"].rsplit("/", 1)[-1], where)
        if "enum" in schema or "const" in schema:
            values = schema.get("enum", [schema.get("const")])
            return _restriction("xs:string", [("enumeration", str(v)) for v in values])
        kind, form = schema.get("type"), schema.get("format")
        facets: list[tuple[str, str]] = []
        if kind == "string":
            base = {"date": "xs:date", "date-time": "xs:dateTime", "binary": "xs:base64Binary"}.get(
                form or "", "xs:string"
            )
            if "minLength" in schema:
                facets.append(("minLength", str(schema["minLength"])))
            if "maxLength" in schema:
                facets.append(("maxLength", str(schema["maxLength"])))
            if "pattern" in schema:
                facets.append(("pattern", xsd_pattern(schema["pattern"], where)))
            elif base == "xs:date":
                facets.append(("pattern", "[0-9]{4}-[0-9]{2}-[0-9]{2}"))
        elif kind == "integer":
            base = "xs:integer"
            for key, facet in (
                ("minimum", "minInclusive"),
                ("maximum", "maxInclusive"),
                ("exclusiveMinimum", "minExclusive"),
                ("exclusiveMaximum", "maxExclusive"),
            ):
                if key in schema:
                    facets.append((facet, str(schema[key])))
        elif kind == "boolean":
            base = "xs:boolean"
        elif kind == "number":
            base = "xs:double"
        else:
            raise SchemaGenerationError(f"{where}: no XSD type for {schema}")
        return _restriction(base, facets) if facets else base

    def _enum_type(self, name: str, where: str) -> str:
        if name in self._types:
            return name
        definition = self._defs.get(name, {})
        if "enum" not in definition:
            raise SchemaGenerationError(f"{where}: {name} is neither an enumeration nor a model field")
        node = _restriction("xs:string", [("enumeration", str(v)) for v in definition["enum"]])
        node.set("name", name)
        if definition.get("description"):
            _document(node, definition["description"], first=True)
        self._types[name] = node
        return name


def _with_choice(
    particles: list[etree._Element], choice: list[str] | None, owner: str
) -> list[etree._Element]:
    """The particles with the elements named in ``choice`` (consecutive) turned into one ``xs:choice``."""
    if not choice:
        return particles
    names = [p.get("name") for p in particles]
    try:
        start = names.index(choice[0])
    except ValueError:
        raise SchemaGenerationError(f"{owner}: {CHOICE_KEY} names no element {choice[0]}") from None
    if names[start : start + len(choice)] != choice:
        raise SchemaGenerationError(f"{owner}: {CHOICE_KEY} must name consecutive elements: {choice}")
    node = etree.Element(_XS + "choice")
    for particle in particles[start : start + len(choice)]:
        if "minOccurs" in particle.attrib:
            del particle.attrib["minOccurs"]
        node.append(particle)
    return [*particles[:start], node, *particles[start + len(choice) :]]


def _unwrap_optional(schema: JsonSchema) -> tuple[JsonSchema, bool]:
    """``X | None`` as (X, True); a single ``allOf`` reference as that reference."""
    options = schema.get("anyOf")
    if options is not None:
        others = [option for option in options if option.get("type") != "null"]
        if len(others) != 1:
            raise SchemaGenerationError(f"unions other than X | None have no XSD form here: {schema}")
        merged = {k: v for k, v in schema.items() if k != "anyOf"} | others[0]
        return _unwrap_optional(merged)[0], True
    if "allOf" in schema and len(schema["allOf"]) == 1:
        merged = {k: v for k, v in schema.items() if k != "allOf"} | schema["allOf"][0]
        return merged, False
    return schema, False


def _restriction(base: str, facets: Iterable[tuple[str, str]]) -> etree._Element:
    simple = etree.Element(_XS + "simpleType")
    restriction = etree.SubElement(simple, _XS + "restriction", base=base)
    for facet, value in facets:
        etree.SubElement(restriction, _XS + facet, value=value)
    return simple


def _typed(node: etree._Element, simple: str | etree._Element) -> None:
    if isinstance(simple, str):
        node.set("type", simple)
    else:
        node.append(simple)


def _document(node: etree._Element, text: str, *, first: bool = True) -> None:
    annotation = etree.Element(_XS + "annotation")
    etree.SubElement(annotation, _XS + "documentation").text = inspect.cleandoc(text)
    if first:
        node.insert(0, annotation)
    else:
        node.append(annotation)
