"""Submissions as tables, laid out the way ODK Central lays out its CSV export: pure (no
database), so that it is tested on XML alone.

- The columns come from the form definition: the primary instance of each XForm, the types
  of its binds (geopoint, binary...) and its body (repeats, select multiple). A range of
  versions gives the union of their fields, in the order of the newest version, with the
  fields only older versions had added after their siblings (`merge`).
- One table per repeat besides the main one. Column names are the group path joined with
  `-` (relative to the repeat in a repeat's table); a geopoint becomes four columns
  (`-Latitude`, `-Longitude`, `-Altitude`, `-Accuracy`); a select multiple stays the
  space-separated answer; groups themselves have no column.
- The main table opens with `SubmissionDate` and closes with Central's metadata columns
  (`META_COLUMNS`); a repeat's table closes with `PARENT_KEY` and `KEY`, the key being
  the parent's key and the repeat's path with its position: `uuid:…/group/visit[2]`.

XML comes from phones, so it is parsed by odk_forms.xform (defusedxml, DTDs forbidden).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from odk_forms import xform

GEOPOINT_PARTS = ("Latitude", "Longitude", "Altitude", "Accuracy")
META_COLUMNS = (
    "KEY",
    "SubmitterID",
    "SubmitterName",
    "AttachmentsPresent",
    "AttachmentsExpected",
    "Status",
    "ReviewState",
    "DeviceID",
    "Edits",
    "FormVersion",
)
REPEAT_KEYS = ("PARENT_KEY", "KEY")
# A sheet name: at most 31 characters, none of these.
_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\]")
_PREDICATE = re.compile(r"\[[^\]]*\]")


@dataclass
class Node:
    """A question, group or repeat of a form; `path` runs from below the instance root."""

    name: str
    path: tuple[str, ...]
    kind: str  # "group", "repeat", or the bind's type: string, int, geopoint, binary, select...
    children: list[Node] = field(default_factory=list)
    # A select multiple's choices (its items, or its itemset's secondary instance).
    choices: list[str] = field(default_factory=list)

    def child(self, name: str) -> Node | None:
        return next((c for c in self.children if c.name == name), None)


def _path(ref: str, context: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """An absolute nodeset (`/data/group/q`) without its root, or a ref relative to the
    enclosing group's path."""
    ref = _PREDICATE.sub("", ref.strip())
    if not ref:
        return None
    if ref.startswith("/"):
        return tuple(p for p in ref.split("/")[2:] if p)
    if context is None:
        return None
    parts = list(context)
    for part in ref.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return tuple(parts)


_ITEMSET = re.compile(r"""instance\(\s*['"]([^'"]+)['"]\s*\)""")


def _choices(select: Element, secondary: dict[str, Element]) -> list[str]:
    """The values a select offers: its items, or the items of the secondary instance its
    itemset reads (`instance('crops')/root/item`, value `name`)."""
    values = [xform.text(xform.child(item, "value")) for item in xform.children(select, "item")]
    itemset = xform.child(select, "itemset")
    if itemset is not None:
        found = _ITEMSET.search(itemset.get("nodeset") or "")
        source = secondary.get(found.group(1)) if found else None
        value = xform.child(itemset, "value")
        ref = (value.get("ref") if value is not None else None) or "name"
        if source is not None:
            for container in source:
                values.extend(xform.text(xform.child(item, ref)) for item in container)
    return list(dict.fromkeys(v for v in values if v))


def _body_kinds(
    body: Element | None, secondary: dict[str, Element]
) -> tuple[set[tuple[str, ...]], dict[tuple[str, ...], str], dict[tuple[str, ...], list[str]]]:
    """The repeats of a form body, the kinds its controls give (select, binary) and the
    choices of its select multiples."""
    repeats: set[tuple[str, ...]] = set()
    kinds: dict[tuple[str, ...], str] = {}
    choices: dict[tuple[str, ...], list[str]] = {}

    def walk(element: Element, context: tuple[str, ...]) -> None:
        for item in element:
            name = xform.local_name(item.tag)
            ref = item.get("nodeset") if name == "repeat" else item.get("ref")
            here = _path(ref, context) if ref else None
            if name == "repeat" and here is not None:
                repeats.add(here)
            elif name == "select" and here is not None:
                kinds[here] = "select"
                choices[here] = _choices(item, secondary)
            elif name == "upload" and here is not None:
                kinds.setdefault(here, "binary")
            if name in ("group", "repeat"):
                walk(item, here if here is not None else context)

    if body is not None:
        walk(body, ())
    return repeats, kinds, choices


def form_tree(xform_xml: bytes) -> Node:
    """The questions of one XForm as a tree of Nodes (the root's name is the instance root)."""
    root = xform.parse_xml(xform_xml)
    model = xform.child(xform.child(root, "head"), "model")
    if model is None:
        raise xform.XMLError("the XForm has no model")
    instances = xform.children(model, "instance")
    primary = next((i for i in instances if not i.get("id")), instances[0] if instances else None)
    data = next(iter(primary), None) if primary is not None else None
    if data is None:
        raise xform.XMLError("the XForm has no primary instance")
    types: dict[tuple[str, ...], str] = {}
    for bind in xform.children(model, "bind"):
        path = _path(bind.get("nodeset") or "", None)
        if path is not None:
            types[path] = (bind.get("type") or "string").rpartition(":")[2]
    secondary = {i.get("id") or "": i for i in instances if i.get("id")}
    repeats, kinds, choices = _body_kinds(xform.child(root, "body"), secondary)

    def build(element: Element, path: tuple[str, ...]) -> Node:
        name = xform.local_name(element.tag)
        is_repeat = path in repeats or element.get(xform.JR_TEMPLATE) is not None
        if is_repeat or len(element):
            node = Node(name, path, "repeat" if is_repeat else "group")
            for item in element:
                found = node.child(xform.local_name(item.tag))
                built = build(item, (*path, xform.local_name(item.tag)))
                if found is None:
                    node.children.append(built)
                else:  # a repeat's template and its first instance: one node
                    _merge_into(found, built)
            return node
        kind = kinds.get(path) or types.get(path, "string")
        return Node(name, path, kind, choices=list(choices.get(path, [])))

    return build(data, ())


def _merge_into(target: Node, other: Node) -> None:
    target.choices.extend(c for c in other.choices if c not in target.choices)
    if target.kind in ("group", "repeat") or other.kind in ("group", "repeat"):
        if other.kind == "repeat":
            target.kind = "repeat"
        elif target.kind not in ("group", "repeat"):
            target.kind = other.kind
    for item in other.children:
        found = target.child(item.name)
        if found is None:
            target.children.append(item)
        else:
            _merge_into(found, item)


def merge(trees: list[Node]) -> Node:
    """The union of the trees of several versions, newest first: the newest's order, then
    what only older versions had, after their siblings."""
    if not trees:
        raise ValueError("no form version to take the columns from")
    merged = Node(trees[0].name, (), "group")
    for tree in trees:
        _merge_into(merged, tree)
    return merged


# --- Tables --------------------------------------------------------------------------------------


@dataclass
class Table:
    """One CSV file (or sheet): the main table or one repeat's."""

    name: str  # the file's stem: `<formId>` or `<formId>-<repeat name>`
    node: Node  # the root or the repeat
    leaves: list[Node]  # the questions of this table (not those of nested repeats)
    header: list[str]
    sheet: str = ""
    # Central's splitSelectMultiples: a 1/0 column per choice after each select multiple.
    split: bool = False

    @property
    def is_main(self) -> bool:
        return not self.node.path


def _leaves(node: Node) -> Iterator[Node]:
    for item in node.children:
        if item.kind == "group":
            yield from _leaves(item)
        elif item.kind != "repeat":
            yield item


def _repeats(node: Node) -> Iterator[Node]:
    for item in node.children:
        if item.kind == "repeat":
            yield item
        elif item.kind == "group":
            yield from _repeats(item)


def _columns(leaf: Node, base: tuple[str, ...], split: bool, group_paths: bool = True) -> list[str]:
    name = "-".join(leaf.path[len(base) :]) if group_paths else leaf.name
    if leaf.kind == "geopoint":
        return [f"{name}-{part}" for part in GEOPOINT_PARTS]
    if split and leaf.kind == "select":
        return [name, *(f"{name}-{choice}" for choice in leaf.choices)]
    return [name]


def _file_name(name: str) -> str:
    """A table's file name as Central sanitises it: no folders, no control characters."""
    return xform.sanitize_filename(re.sub(r"[/\\]", "_", name)) or "submissions"


def tables(
    tree: Node, form_id: str, split_select_multiples: bool = False, group_paths: bool = True
) -> list[Table]:
    """The main table, then one per repeat, depth first. `split_select_multiples`: a 1/0
    column per choice after each select multiple, as Central's splitSelectMultiples;
    `group_paths` False: columns named by the question alone (Central's groupPaths=false)."""
    found: list[Table] = []
    used_names: set[str] = set()
    used_sheets: set[str] = set()

    def unique(name: str, used: set[str], limit: int = 200) -> str:
        candidate, n = name[:limit], 1
        while candidate.lower() in used:
            n += 1
            suffix = f"~{n}"
            candidate = name[: limit - len(suffix)] + suffix
        used.add(candidate.lower())
        return candidate

    def add(node: Node) -> None:
        leaves = list(_leaves(node))
        split = split_select_multiples
        header = [column for leaf in leaves for column in _columns(leaf, node.path, split, group_paths)]
        if node.path:
            name = unique(_file_name(f"{form_id}-{node.name}"), used_names)
            header = [*header, *REPEAT_KEYS]
            sheet = unique(_SHEET_UNSAFE.sub("_", node.name) or "repeat", used_sheets, 31)
        else:
            name = unique(_file_name(form_id), used_names)
            header = ["SubmissionDate", *header, *META_COLUMNS]
            sheet = unique(_SHEET_UNSAFE.sub("_", form_id) or "submissions", used_sheets, 31)
        found.append(Table(name, node, leaves, header, sheet, split))
        for repeat in _repeats(node):
            add(repeat)

    add(tree)
    return found


# --- Rows ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Meta:
    """What the server knows of a submission besides its XML (Central's metadata columns)."""

    instance_id: str
    submission_date: str
    submitter_id: str = ""
    submitter_name: str = ""
    attachments_present: int = 0
    attachments_expected: int = 0
    status: str = ""
    review_state: str = ""
    device_id: str = ""
    edits: int = 0
    form_version: str = ""


def _geopoint(text: str) -> list[str]:
    parts = text.split()
    return [*parts[:4], *[""] * (4 - len(parts[:4]))] if parts else ["", "", "", ""]


def _values(
    table: Table, element: Element | None
) -> tuple[dict[tuple[str, ...], str], list[tuple[Node, Element, str]]]:
    """The answers of one row (by leaf path) and the repeat instances below it, each with
    its path relative to the row for its key: `group/visit[2]`."""
    values: dict[tuple[str, ...], str] = {}
    nested: list[tuple[Node, Element, str]] = []
    if element is None:
        return values, nested

    def walk(node: Node, item: Element, relative: tuple[str, ...]) -> None:
        counts: dict[str, int] = {}
        for sub in item:
            name = xform.local_name(sub.tag)
            known = node.child(name)
            if known is None:
                continue
            if known.kind == "repeat":
                counts[name] = counts.get(name, 0) + 1
                key = "/".join((*relative, name)) + f"[{counts[name]}]"
                nested.append((known, sub, key))
            elif known.kind == "group":
                if known.path not in values:  # the first of a group sent twice
                    values[known.path] = ""
                    walk(known, sub, (*relative, name))
            elif known.path not in values:
                values[known.path] = (sub.text or "").strip() if len(sub) == 0 else _inner_text(sub)

    walk(table.node, element, ())
    return values, nested


def _inner_text(element: Element) -> str:
    return "".join(element.itertext()).strip()


def _row(table: Table, values: dict[tuple[str, ...], str]) -> list[str]:
    row: list[str] = []
    for leaf in table.leaves:
        text = values.get(leaf.path, "")
        if leaf.kind == "geopoint":
            row.extend(_geopoint(text))
            continue
        row.append(text)
        if table.split and leaf.kind == "select":
            chosen = set(text.split())
            row.extend(("1" if choice in chosen else "0") if text else "" for choice in leaf.choices)
    return row


def rows_of(layout: list[Table], root: Element | None, meta: Meta) -> Iterator[tuple[Table, list[str]]]:
    """Every row one submission gives: its main row, then each repeat instance's row (in
    document order, depth first), as (table, cells in the order of the table's header).
    `root` None (an encrypted record not decrypted): the main row's metadata only."""
    by_node = {id(t.node): t for t in layout}
    main = layout[0]
    values, nested = _values(main, root)
    yield (
        main,
        [
            meta.submission_date,
            *_row(main, values),
            meta.instance_id,
            meta.submitter_id,
            meta.submitter_name,
            str(meta.attachments_present),
            str(meta.attachments_expected),
            meta.status,
            meta.review_state,
            meta.device_id,
            str(meta.edits),
            meta.form_version,
        ],
    )
    stack = [(node, element, f"{meta.instance_id}/{key}", meta.instance_id) for node, element, key in nested]
    stack.reverse()
    while stack:
        node, element, key, parent = stack.pop()
        table = by_node.get(id(node))
        if table is None:
            continue
        values, below = _values(table, element)
        yield table, [*_row(table, values), parent, key]
        stack.extend(reversed([(n, e, f"{key}/{k}", key) for n, e, k in below]))


def parse(xml: bytes) -> Element:
    return xform.parse_xml(xml)
