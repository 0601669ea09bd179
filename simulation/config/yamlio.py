"""Safe YAML input for scenario, sweep and chain files: a guarded SafeLoader (no duplicate keys,
no alias bombs), ``inherits:`` deep-merging, ``--set`` overrides and one-line pydantic errors.
Every problem with user input raises :class:`simulation.errors.InputError`."""

from __future__ import annotations

import copy
import errno
import os
import stat
import types
import typing
from collections import abc
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pydantic
import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .builtin import find_scenario_file, not_found_hint
from .errors import InputError, PartError
from .nearest import did_you_mean

MAX_ALIAS_USES = 1000
MAX_NODES = 100_000  # nodes counted as if every alias were expanded
MAX_INHERITS_DEPTH = 50  # files in one ``inherits:`` chain
MAX_INPUT_BYTES = 10_000_000  # default size limit of an input file; env VALUECHAIN_MAX_INPUT_BYTES
_BOMB = "too many YAML aliases/nodes (possible alias bomb)"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _AliasBomb(Exception):
    """Internal signal: the document would expand to too many nodes."""


class GuardedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that counts alias uses while composing the node graph."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_uses = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(AliasEvent):
            self.alias_uses += 1
            if self.alias_uses > MAX_ALIAS_USES:
                raise _AliasBomb
        return super().compose_node(parent, index)


def _key_value(loader: yaml.SafeLoader | None, node: ScalarNode) -> Any:
    """The value a scalar key takes once constructed (``0x7E0``, ``2_016`` and ``2016`` are all
    2016; ``1``, ``1.0`` and ``true`` are one dict key in Python too)."""
    construct = loader.yaml_constructors.get(node.tag) if loader is not None else None
    if construct is None or node.tag == "tag:yaml.org,2002:str":
        return ("str", node.value)
    try:
        value = construct(loader, node)
        hash(value)
    except Exception:  # not a plain scalar: compare by tag and text
        return (node.tag, node.value)
    return value


def _check_nodes(root: Node, file: str, prefix: str, loader: yaml.SafeLoader | None = None) -> None:
    """Walk the node graph as construction would expand it: reject duplicate keys (compared as
    constructed values, so ``2016`` and ``0x7E0`` collide) and alias bombs (more than MAX_NODES
    nodes visited) and anchors used inside themselves."""
    visited = 0
    open_nodes: set[int] = set()

    def walk(node: Node, path: str) -> None:
        nonlocal visited
        visited += 1
        if visited > MAX_NODES:
            raise _AliasBomb
        if id(node) in open_nodes:
            raise InputError(file, path, "recursive YAML alias (an anchor used inside itself)")
        open_nodes.add(id(node))
        if isinstance(node, MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:  # `<<: *base` merges, later keys override
                    walk(value_node, path)
                    continue
                name = key_node.value if isinstance(key_node, ScalarNode) else "?"
                sub = f"{path}.{name}" if path else str(name)
                if isinstance(key_node, ScalarNode):
                    norm = _key_value(loader, key_node)
                    if norm in seen:
                        line = key_node.start_mark.line + 1
                        msg = f"duplicated key (line {line}); each key may appear once"
                        raise InputError(file, sub, msg)
                    seen.add(norm)
                walk(value_node, sub)
        elif isinstance(node, SequenceNode):
            for i, child in enumerate(node.value):
                walk(child, f"{path}.{i}" if path else str(i))
        open_nodes.discard(id(node))

    walk(root, prefix)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """First line of a PyYAML error, with its line and column when known."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return exc.problem + where
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _load_any(text: str, file: str, key: str = "", got: object = None) -> Any:
    """Parse one YAML document with the guarded loader; any problem raises InputError."""
    loader: GuardedLoader | None = None
    try:
        loader = GuardedLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node, file, key, loader)
        return loader.construct_document(node)
    except _AliasBomb:
        raise InputError(file, key, _BOMB) from None
    except RecursionError:
        raise InputError(file, key, "not valid YAML: nested too deeply", got=got) from None
    except yaml.YAMLError as exc:
        raise InputError(file, key, f"not valid YAML: {_yaml_problem(exc)}", got=got) from None
    finally:
        if loader is not None:
            loader.dispose()


def load_yaml_text(text: str, file: str) -> dict:
    """Parse YAML ``text`` (read from ``file``) whose top level must be a mapping."""
    data = _load_any(text, file)
    if not isinstance(data, dict):
        got = "empty file" if data is None else type(data).__name__
        raise InputError(file, "", "top level must be a mapping of keys to values", got=got)
    return data


def max_input_bytes() -> int:
    """Size limit of an input file: ``VALUECHAIN_MAX_INPUT_BYTES`` or 10 MB."""
    raw = os.environ.get("VALUECHAIN_MAX_INPUT_BYTES", "")
    try:
        return int(raw) if raw.strip() else MAX_INPUT_BYTES
    except ValueError:
        raise InputError("VALUECHAIN_MAX_INPUT_BYTES", "", "must be a whole number of bytes", raw) from None


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def read_input_bytes(path: str | Path) -> bytes:
    """The bytes of a user's input file: a regular file no larger than :func:`max_input_bytes`.

    ``os.stat`` is checked before the file is opened (a FIFO or a device is never opened, so
    nothing blocks or streams forever), then again on the open descriptor; at most the limit
    plus one byte is read. Missing files, symlink loops and unreadable files are InputErrors.
    """
    file, limit = str(path), max_input_bytes()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(file, "", "file not found") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(file, "", "symlink loop (a link that points back to itself)") from None
        raise InputError(file, "", f"cannot read file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(file, "", f"cannot read file: not a regular file ({_kind(st.st_mode)})")
    if st.st_size > limit:
        raise InputError(file, "", f"file is {st.st_size:,} bytes; input files may have at most {limit:,} "
                         f"(set VALUECHAIN_MAX_INPUT_BYTES to allow more)")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise InputError(file, "", f"cannot read file: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for something else since the stat
            raise InputError(file, "", "cannot read file: not a regular file")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise InputError(file, "", f"file has more than {limit:,} bytes (set VALUECHAIN_MAX_INPUT_BYTES "
                         f"to allow more)")
    return data


def load_yaml_mapping(path: str | Path) -> dict:
    """Read a UTF-8 YAML file safely (see :func:`read_input_bytes`); its top level must be a mapping."""
    file = str(path)
    data = read_input_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"not valid YAML: not UTF-8 text (byte {exc.start})"
        raise InputError(file, "", msg) from None
    return load_yaml_text(text, file)


def resolve_path(path: Path, file: str, key: str) -> Path:
    """``path.resolve()``; a symlink loop is the InputError of ``file`` at ``key``."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: "Symlink loop" before Python 3.13
        raise InputError(file, key, "symlink loop (a link that points back to itself)", str(path)) from None


def parse_yaml_value(text: str, file: str, key: str) -> Any:
    """Parse one YAML scalar or flow value, e.g. ``0.30`` -> 0.3, ``[1, 2]``, ``{a: 1}``, ``true``.

    Uses YAML 1.1 rules (PyYAML): ``yes``/``no``/``on``/``off`` are booleans, ``1e5`` is a string.
    """
    return _load_any(text, file, key, got=text)


def deep_merge(base: dict, override: dict) -> dict:
    """New dict: mappings merge recursively; any other value in ``override`` replaces ``base``'s.

    Inputs are not mutated and the result shares no mutable values with them.
    """
    merged: dict = {}
    for key, value in base.items():
        if key not in override:
            merged[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(override[key], dict):
            merged[key] = deep_merge(value, override[key])
        else:
            merged[key] = copy.deepcopy(override[key])
    for key, value in override.items():
        if key not in base:
            merged[key] = copy.deepcopy(value)
    return merged


def resolve_inherits(path: str | Path, load: Callable[[Path], dict] = load_yaml_mapping) -> dict:
    """Load ``path``; if it has ``inherits: parent.yaml`` (relative to its folder; a bare name such as
    ``baseline`` is a built-in scenario unless that file exists), deep-merge it over the recursively
    resolved parent. The result has no ``inherits`` key, and ``chain``/``base``
    file names are absolute."""
    return resolve_layers(path, load)[0]


Layers = list[tuple[str, dict]]  # (file, the keys written in it), the file itself first, then what it inherits


def resolve_layers(path: str | Path, load: Callable[[Path], dict] = load_yaml_mapping) -> tuple[dict, Layers]:
    """:func:`resolve_inherits` and the files merged, each with its own keys (for :func:`blame_inherited`)."""
    layers: Layers = []
    return _resolve(Path(path), load, [], layers), layers


INCLUDED = {"inherits": "inherited file", "base": "base scenario file"}  # the keys that name a scenario file


def find_included(written: str, folder: Path, file: str, key: str) -> Path:
    """The scenario file that ``key`` (``inherits`` or a sweep's ``base``) of ``file`` names, ``written``
    as it is there: beside ``file`` (in ``folder``), else the built-in scenario of a bare name
    (:func:`find_scenario_file`); if neither exists, the InputError of ``file`` at ``key`` saying where it
    was looked for and, for ``NAME.yaml`` of a built-in, to write ``NAME`` (:func:`not_found_hint`)."""
    path = find_scenario_file(written, folder)
    try:
        os.stat(path)
    except FileNotFoundError:
        hint = not_found_hint(written, resolve_path(path, file, key))
        raise InputError(file, key, f"{INCLUDED[key]} not found {hint}", got=written) from None
    except OSError:
        pass  # a symlink loop, no permission, ...: the loader names it
    return path


def _resolve(path: Path, load: Callable[[Path], dict], chain: list[Path], layers: Layers) -> dict:
    file, data = str(path), dict(load(path))
    written = dict(data)  # the keys as this file writes them (a base: is looked up as written, find_included)
    written.pop("inherits", None)
    layers.append((file, written))
    for name in ("chain", "base"):  # file names written here are relative to this file's folder
        value = data.get(name)
        if isinstance(value, str) and value.lower().endswith((".yaml", ".yml")):
            target = path.parent / value  # the folder resolved, the file's own name kept (a link stays .yaml)
            data[name] = str(resolve_path(target.parent, file, name) / target.name)
    if "inherits" not in data:
        return data
    target = data.pop("inherits")
    if not isinstance(target, str) or not target.strip():
        raise InputError(file, "inherits", "must be a file name", got=target)
    parent = find_included(target, path.parent, file, "inherits")  # beside this file, else a built-in by name
    chain = [*chain, path]
    if len(chain) >= MAX_INHERITS_DEPTH:
        raise InputError(file, "inherits", f"too deep: at most {MAX_INHERITS_DEPTH} files may inherit one "
                         f"from another (this chain starts at {chain[0].name})")
    if resolve_path(parent, file, "inherits") in {resolve_path(p, file, "inherits") for p in chain}:
        names = " -> ".join(p.name for p in [*chain, parent])
        raise InputError(file, "inherits", f"inheritance loop: {names}")
    return deep_merge(_resolve(parent, load, chain, layers), data)


def _holds(node: Any, parts: list[str]) -> bool:
    """Whether the dotted path ``parts`` (keys as text, list items by number) exists in ``node``."""
    for part in parts:
        if isinstance(node, dict):
            keys = [k for k in node if str(k) == part]
            if not keys:
                return False
            node = node[keys[0]]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def key_origin(layers: Layers, key: str) -> str:
    """The file that wrote the dotted ``key``: the nearest file in the ``inherits`` chain holding
    the longest part of it that some file holds; the first file if none does."""
    parts = key.split(".")
    for n in range(len(parts), 0, -1):
        for file, data in layers:
            if _holds(data, parts[:n]):
                return file
    return layers[0][0]


def blame_inherited(err: InputError, layers: Layers) -> InputError:
    """``err``, raised against the first file of ``layers``, filed against the inherited file that
    holds its key (``baseline.yaml (inherited by mix.yaml)``); ``err`` itself otherwise."""
    top = layers[0][0] if layers else None
    if err.file != top or not err.key:
        return err
    origin = key_origin(layers, err.key)
    if origin == top:
        return err
    return InputError(f"{origin} (inherited by {top})", err.key, err.message, err.got, show_got=err.show_got)


def _unknown_key(name: str, valid: Iterable[str]) -> str:
    return "unknown key" + did_you_mean(name, valid)


def apply_set(
    data: dict,
    assignment: str,
    file: str = "--set",
    valid_paths: Callable[[list[str]], Iterable[str] | None] | None = None,
) -> dict:
    """Return a copy of ``data`` with ``assignment`` (``dotted.key=YAML_VALUE``) applied.

    Missing intermediate mappings are created; a numeric part indexes an existing list.
    ``file`` names the source in errors. ``valid_paths(parts)``, if given, returns the valid keys
    below ``parts`` (empty or None: anything goes there), e.g.
    ``lambda parts: valid_keys_at(Scenario, parts)``; unknown keys then fail early.
    """
    key, sep, raw = assignment.partition("=")
    key = key.strip()
    if not sep:
        raise InputError(file, "", "expected KEY=VALUE", got=assignment)
    if not key:
        raise InputError(file, "", "empty key", got=assignment)
    parts = [part.strip() for part in key.split(".")]
    if not all(parts):
        raise InputError(file, key, "empty part in dotted key", got=assignment)
    for i, part in enumerate(parts):
        valid = list(valid_paths(parts[:i]) or []) if valid_paths else []
        if valid and part not in valid:
            raise InputError(file, ".".join(parts[: i + 1]), _unknown_key(part, valid))
    return _set_in(data, parts, parse_yaml_value(raw, file, key), file, [])


def _set_in(node: Any, parts: list[str], value: Any, file: str, done: list[str]) -> Any:
    """Copy of ``node`` with ``value`` set at ``parts``; ``done`` is the path walked so far."""
    head, rest = parts[0], parts[1:]
    if isinstance(node, dict):
        new: Any = dict(node)
        child = new.get(head)
    elif isinstance(node, list) and head.isdigit() and int(head) < len(node):
        new, head = list(node), int(head)  # type: ignore[assignment]
        child = new[head]
    else:
        if isinstance(node, list):
            msg = f"cannot set '{head}': the list has {len(node)} items, numbered from 0"
        else:
            msg = f"cannot set '{head}': the value here is not a mapping"
        raise InputError(file, ".".join(done), msg, got=node)
    done = [*done, str(head)]
    new[head] = _set_in({} if child is None else child, rest, value, file, done) if rest else value
    return new


def _members(ann: Any) -> Iterable[Any]:
    """Types inside Optional/Union/Annotated, without None."""
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        yield from _members(typing.get_args(ann)[0])
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(ann):
            yield from _members(arg)
    elif ann is not type(None):
        yield ann


def _model_in(ann: Any) -> type[pydantic.BaseModel] | None:
    """The first pydantic model among the types in ``ann``, or None."""
    models = (m for m in _members(ann) if isinstance(m, type) and issubclass(m, pydantic.BaseModel))
    return next(models, None)


def _field_key(name: str, info: Any) -> str:
    """The key a user writes for a field: its validation alias or alias if set, else its name."""
    alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
    return alias or name


def _child(ann: Any, part: Any) -> Any:
    """Annotation one step down ``part`` (field, list index or dict key), or None."""
    if (model := _model_in(ann)) is not None:
        fields = model.model_fields.items()
        return next((f.annotation for n, f in fields if part in (n, _field_key(n, f))), None)
    for member in _members(ann):
        origin, args = typing.get_origin(member), typing.get_args(member)
        sequences = (list, tuple, set, frozenset, abc.Sequence, abc.Set)
        if origin in sequences and args and str(part).isdigit():
            return args[0]
        if origin in (dict, abc.Mapping, abc.MutableMapping) and len(args) == 2:
            return args[1]
    return None


def valid_keys_at(model: type[pydantic.BaseModel], loc: Iterable[Any]) -> list[str]:
    """Keys a user may write at ``loc`` in ``model`` (aliases where defined); [] if free-form."""
    ann: Any = model
    for part in loc:
        ann = _child(ann, part)
        if ann is None:
            return []
    model = _model_in(ann)
    return [_field_key(n, f) for n, f in model.model_fields.items()] if model else []


def _friendly(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if msg[:1].isupper() and not msg[1:2].isupper():
        msg = msg[0].lower() + msg[1:]
    return msg


def format_validation_error(
    file: str, exc: pydantic.ValidationError, model: type[pydantic.BaseModel] | None = None
) -> InputError:
    """One-line InputError for the first error in ``exc``; key is the dotted ``loc``.

    Unknown keys (``extra="forbid"``) are reported before any other error, since a misspelt key
    also causes a "missing" error for the key meant; they get a "did you mean" suggestion from
    ``model``'s fields (see :func:`valid_keys_at`).
    """
    errors = exc.errors(include_url=False)
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = list(err["loc"])
    key = ".".join(str(part) for part in loc)
    if err["type"] == "missing":
        return InputError(file, key, "required key is missing")
    if err["type"] == "extra_forbidden" and loc:
        valid = valid_keys_at(model, loc[:-1]) if model is not None else []
        return InputError(file, key, _unknown_key(str(loc[-1]), valid), got=err.get("input"))
    part = (err.get("ctx") or {}).get("error")
    got = part.got if isinstance(part, PartError) else err.get("input")  # the part at fault, else the input
    return InputError(file, key, _friendly(err["msg"]), got=got)
