"""Task configurations from files and ``--set key=value`` overrides (docs/design.md §7).

Every task (``classify``, ``tag``, ``lm``, ``translate``) has one frozen dataclass of frozen
dataclasses (``model``, ``data``, ``train``, …), as nanoGPT's ``GPTConfig``. A configuration is
built in three layers, later ones winning:

1. the dataclass defaults;
2. a TOML file (``--config CFG.toml``) or a configuration shipped with rnnkit by name
   (``--config ptb-small``: ``rnnkit/configs/ptb-small.toml``), whose tables mirror the sections;
3. ``--set section.field=value`` overrides, each type-checked against the field it names.

Override values are parsed by the field's type: ``int``, ``float``, ``bool`` (``true``/``false``,
``yes``/``no``, ``1``/``0``), ``str``, ``None`` (``none`` or ``null`` where the field allows it),
and tuples as comma-separated items (``data.pipeline=lower,tweet``). A name that is not a field,
or a value that does not parse, raises :class:`~rnnkit.errors.ConfigError` naming the key,
suggesting the closest valid key and listing the valid ones.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import json
import math
import re
import tomllib
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from rnnkit.errors import ConfigError, DataFormatError

__all__ = [
    "KeyDoc",
    "apply_overrides",
    "build_config",
    "closest_key",
    "config_from_dict",
    "config_to_dict",
    "config_toml",
    "describe_config",
    "field_help",
    "given_keys",
    "model_keys",
    "parse_override",
    "read_config_file",
    "shipped_configs",
]

C = TypeVar("C")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_NONE = {"none", "null"}


def config_to_dict(config: Any) -> dict[str, Any]:
    """A frozen config dataclass as a JSON-ready dict (nested dataclasses as dicts)."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"expected a dataclass instance, got {type(config).__name__}")
    return dataclasses.asdict(config)


def config_from_dict(cls: type[C], data: Any, source: str | Path = "<config>", key: str = "") -> C:
    """Rebuild the dataclass ``cls`` from ``data``; unknown keys or bad values raise
    :class:`~rnnkit.errors.DataFormatError` naming ``source`` and the ``key`` path."""
    where = key or cls.__name__
    if not isinstance(data, Mapping):
        raise DataFormatError(source, f'"{where}" must be a JSON object')
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        named = ", ".join(f"{name}{_did_you_mean(name, list(fields))}" for name in unknown)
        raise DataFormatError(source, f'unknown keys in "{where}": {named}')
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in data.items():
        nested = _dataclass_in(hints[name])
        if nested is not None and isinstance(value, Mapping):
            value = config_from_dict(nested, value, source, f"{where}.{name}")
        elif isinstance(value, list):
            value = tuple(value)
        values[name] = value
    try:
        return cls(**values)
    except (ConfigError, TypeError, ValueError) as err:
        raise DataFormatError(source, f'bad "{where}": {err}') from None


def _dataclass_in(hint: Any) -> type | None:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return hint
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        for arg in typing.get_args(hint):
            found = _dataclass_in(arg)
            if found is not None:
                return found
    return None


def shipped_configs() -> list[str]:
    """Names of the configurations shipped with rnnkit (``rnnkit/configs/*.toml``)."""
    folder = resources.files("rnnkit") / "configs"
    if not folder.is_dir():
        return []
    names = (p.name for p in folder.iterdir())
    return sorted(n.removesuffix(".toml") for n in names if n.endswith(".toml"))


def read_config_file(spec: str | Path) -> tuple[dict[str, Any], str]:
    """The tables of a TOML file, or of a shipped configuration named ``spec``; and its source."""
    path = Path(spec)
    if not path.is_file() and str(spec) in shipped_configs():
        resource = resources.files("rnnkit") / "configs" / f"{spec}.toml"
        return _parse_toml(resource.read_text(encoding="utf-8"), f"rnnkit/configs/{spec}.toml")
    if not path.is_file():
        shipped = ", ".join(shipped_configs()) or "none"
        raise ConfigError(f"{spec}: no such config file (shipped configs: {shipped})")
    return _parse_toml(path.read_text(encoding="utf-8"), str(path))


def _parse_toml(text: str, source: str) -> tuple[dict[str, Any], str]:
    try:
        return tomllib.loads(text), source
    except tomllib.TOMLDecodeError as err:
        # Python 3.11's error carries the position only in its message: "… (at line 2, column 8)"
        message = str(err.args[0])
        found = re.search(r" \(at line (\d+), column \d+\)$", message)
        line = int(found.group(1)) if found else None
        raise DataFormatError(source, f"not valid TOML: {message}", line) from None


def build_config(
    cls: type[C],
    config_file: str | Path | None = None,
    overrides: Iterable[str] = (),
    base: C | None = None,
) -> C:
    """``cls``'s configuration: ``base`` (or the defaults), then ``config_file``, then
    ``overrides`` (``"section.field=value"`` strings)."""
    config = base if base is not None else cls()
    if config_file is not None:
        tables, source = read_config_file(config_file)
        merged = _merge(config_to_dict(config), tables)
        config = config_from_dict(cls, merged, source)
    return apply_overrides(config, overrides)


def given_keys(config_file: str | Path | None = None, overrides: Iterable[str] = ()) -> set[str]:
    """The dotted keys (``model.hidden_size``) that ``config_file`` or ``overrides`` set: what
    the user chose, as opposed to defaults."""
    keys = {".".join(_split(o)[0]) for o in overrides}
    if config_file is not None:
        keys |= set(_dotted(read_config_file(config_file)[0]))
    return keys


def model_keys(
    config_file: str | Path | None = None, overrides: Iterable[str] = ()
) -> frozenset[str]:
    """The fields of the ``model`` section that ``config_file`` or ``overrides`` set
    (``{"hidden_size"}``): a pretrained run's sizes do not replace them."""
    given = given_keys(config_file, overrides)
    return frozenset(key.removeprefix("model.") for key in given if key.startswith("model."))


def _dotted(tables: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in tables.items():
        if isinstance(value, Mapping):
            yield from _dotted(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def _merge(into: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(into)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def apply_overrides(config: C, overrides: Iterable[str]) -> C:
    """``config`` with each ``"a.b.c=value"`` of ``overrides`` applied, type-checked."""
    for override in overrides:
        path, raw = _split(override)
        config = _set(config, path, raw, path)
    return config


def _split(override: str) -> tuple[list[str], str]:
    key, sep, value = override.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {override!r}: expected key=value, e.g. model.hidden_size=128")
    return key.split("."), value.strip()


def _set(config: Any, path: list[str], raw: str, full: list[str]) -> Any:
    name = ".".join(full)
    fields = {f.name: f for f in dataclasses.fields(config)}
    head = path[0]
    if head not in fields:
        prefix = ".".join(full[: len(full) - len(path)])
        valid = ", ".join(f"{prefix}.{f}" if prefix else f for f in fields)
        close = closest_key(config, ".".join(path))
        hint = f"; did you mean {prefix + '.' if prefix else ''}{close}?" if close else ""
        raise ConfigError(f"--set {name}: no such option{hint} (valid here: {valid})")
    hint = typing.get_type_hints(type(config))[head]
    current = getattr(config, head)
    if len(path) > 1:
        if not dataclasses.is_dataclass(current):
            raise ConfigError(f"--set {name}: {'.'.join(full[: -len(path) + 1])} has no fields")
        value = _set(current, path[1:], raw, full)
    else:
        if dataclasses.is_dataclass(current):
            raise ConfigError(f"--set {name}: a section; set one of its fields ({name}.…)")
        value = parse_override(raw, hint, name)
    try:
        return dataclasses.replace(config, **{head: value})
    except (ConfigError, TypeError, ValueError) as err:
        raise ConfigError(f"--set {name}={raw}: {err}") from None


def _leaf_keys(config: Any) -> list[str]:
    """The dotted keys of every field of ``config`` that is not a section, sections' fields
    included (``["max_epochs", "optim.lr", …]``)."""
    return [key for key, _, _, value in _walk(config) if not dataclasses.is_dataclass(value)]


def closest_key(config: Any, key: str) -> str | None:
    """The key of ``config`` (dotted, as ``--set`` takes it) that a misspelt ``key`` most
    likely meant: one ending in the same field name (``lr`` → ``optim.lr``), else the closest
    by :func:`difflib.get_close_matches` (one whose field starts with the same letter first);
    ``None`` when none is close."""
    keys = _leaf_keys(config)
    last = key.rsplit(".", 1)[-1]
    same_name = [k for k in keys if k.rsplit(".", 1)[-1] == last]
    if len(same_name) == 1:
        return same_name[0]
    return _closest(key, keys)


def _closest(key: str, keys: list[str]) -> str | None:
    close = difflib.get_close_matches(key, keys, n=3)
    # a typo seldom changes the first letter: prefer a close key whose field starts with it
    last = key.rsplit(".", 1)[-1]
    first = [k for k in close if k.rsplit(".", 1)[-1][:1] == last[:1]]
    best = first or close
    return best[0] if best else None


def _did_you_mean(name: str, valid: list[str]) -> str:
    close = _closest(name, valid)
    return f" (did you mean {close}?)" if close else ""


def parse_override(raw: str, hint: Any, name: str = "value") -> Any:
    """``raw`` parsed as the type ``hint`` (see the module docstring for the rules)."""
    origin = typing.get_origin(hint)
    if isinstance(hint, types.UnionType) or origin is typing.Union:
        options = typing.get_args(hint)
        if type(None) in options and raw.lower() in _NONE:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return parse_override(raw, option, name)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if len(errors) == 1 else f"--set {name}: bad value {raw!r}")
    if origin is typing.Literal:
        choices = typing.get_args(hint)
        if raw not in choices:
            raise ConfigError(f"--set {name}: {raw!r} is not one of {', '.join(choices)}")
        return raw
    if origin is tuple:
        args = typing.get_args(hint)
        items = [s.strip() for s in raw.split(",") if s.strip()]
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(parse_override(s, args[0], name) for s in items)
        if len(items) != len(args):
            raise ConfigError(f"--set {name}: expected {len(args)} comma-separated values")
        return tuple(parse_override(s, a, name) for s, a in zip(items, args, strict=True))
    if hint is bool:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ConfigError(f"--set {name}: expected true or false, got {raw!r}")
    if hint is int or hint is float:
        try:
            return hint(raw)
        except ValueError:
            raise ConfigError(f"--set {name}: expected {hint.__name__}, got {raw!r}") from None
    if hint is str:
        return raw
    raise ConfigError(f"--set {name}: options of type {hint} cannot be set from the command line")


# -- documentation of the keys: rnnkit config show / init ------------------------------------

_SECTION_HEADER = re.compile(r"^(Args|Arguments|Attributes|Fields):\s*$")
_ENTRY = re.compile(r"^(\w+(?:,\s*\w+)*)(?:\s*\([^)]*\))?:\s*(.*)$")
_ROLE = re.compile(r":\w+:`~?([^`]+)`")


@dataclass(frozen=True)
class KeyDoc:
    """One key of a configuration as ``rnnkit config show`` lists it: the dotted ``key`` that
    ``--set`` takes, its ``type`` as written in the dataclass, its ``default`` value and one
    line of ``help`` from the dataclass docstring."""

    key: str
    type: str
    default: Any
    help: str


def field_help(cls: type) -> dict[str, str]:
    """One line of help per field of the dataclass ``cls``, from the ``Args:`` (or
    ``Attributes:``) section of its docstring (Google style: ``name: text``, continuation lines
    indented deeper; ``a, b: text`` documents two fields): the entry's first sentence, reST
    roles and literals reduced to text."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    entries: dict[str, list[str]] = {}
    current: list[str] | None = None
    in_section, indent = False, 0
    for line in doc.splitlines():
        stripped = line.strip()
        if _SECTION_HEADER.match(line):
            in_section, indent, current = True, -1, None
            continue
        if not in_section:
            continue
        depth = len(line) - len(line.lstrip())
        if stripped and depth == 0:
            in_section, current = False, None  # the section ended
            continue
        found = _ENTRY.match(stripped)
        if found and (indent < 0 or depth == indent):
            indent = depth
            current = [found.group(2)]
            for name in re.split(r",\s*", found.group(1)):
                entries[name] = current
        elif stripped and current is not None:
            current.append(stripped)
    return {name: _first_sentence(" ".join(words)) for name, words in entries.items()}


def _first_sentence(text: str) -> str:
    text = _ROLE.sub(lambda m: m.group(1).rsplit(".", 1)[-1], text).replace("``", "")
    text = re.sub(r"\s+", " ", text).strip()
    cut = re.search(r"(?<!e\.g)(?<!i\.e)(?<!et al)\.\s+(?=[A-Z(])", text)
    return text[: cut.start() + 1] if cut else text


def _type_name(hint: Any) -> str:
    if isinstance(hint, type) and not typing.get_args(hint):
        return "none" if hint is type(None) else hint.__name__
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return " | ".join(_type_name(a) for a in typing.get_args(hint))
    if typing.get_origin(hint) is typing.Literal:
        return " | ".join(json.dumps(a) for a in typing.get_args(hint))
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"tuple[{_type_name(args[0])}, ...]"
        return f"tuple[{', '.join(_type_name(a) for a in args)}]"
    return str(hint).replace("typing.", "")


def _walk(config: Any, prefix: str = "") -> Iterator[tuple[str, Any, Any, Any]]:
    """``(dotted key, the dataclass holding the field, the field's type hint, its value)`` of
    each field of ``config``, sections' fields included, depth first in field order; a section
    yields itself, then its fields."""
    hints = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        yield f"{prefix}{f.name}", config, hints[f.name], value
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            yield from _walk(value, f"{prefix}{f.name}.")


def describe_config(config: Any) -> list[KeyDoc]:
    """Every key of ``config`` that ``--set`` takes (sections' fields included), with its
    type, its value in ``config`` (the default when ``config`` is a task's default) and its
    help (:func:`field_help`); a field without help gets an empty one."""
    docs = []
    for key, owner, hint, value in _walk(config):
        if dataclasses.is_dataclass(value):
            continue
        help_ = field_help(type(owner)).get(key.rsplit(".", 1)[-1], "")
        docs.append(KeyDoc(key, _type_name(hint), value, help_))
    return docs


def _toml_value(value: Any) -> str:
    """``value`` (a configuration value other than ``None``) as a TOML literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value).replace("\x7f", "\\u007f")
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"a value of type {type(value).__name__} has no TOML form: {value!r}")


def config_toml(config: Any, title: str = "") -> str:
    """``config`` as a commented TOML file that :func:`build_config` reads back to the same
    configuration: one table per section, each key preceded by its help and type; a key whose
    value is ``None`` (TOML has no null) is written commented out, so it keeps its default."""
    lines = [f"# {line}".rstrip() for line in title.splitlines()] if title else []
    lines += ["# Each key: its help, its type, then its value; delete a key to keep its default."]
    lines += _toml_table(config, "")
    return "\n".join(lines).rstrip() + "\n"


def _toml_table(config: Any, prefix: str) -> list[str]:
    help_ = field_help(type(config))
    hints = typing.get_type_hints(type(config))
    lines, sections = [], []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            sections.append((f.name, value))
            continue
        about = [help_.get(f.name, ""), f"({_type_name(hints[f.name])})"]
        lines.append("# " + " ".join(part for part in about if part))
        literal = "none" if value is None else _toml_value(value)
        lines.append(f"{'# ' if value is None else ''}{f.name} = {literal}")
    for name, section in sections:
        lines += ["", f"[{prefix}{name}]", *_toml_table(section, f"{prefix}{name}.")]
    return lines
