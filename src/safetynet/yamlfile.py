"""Reading YAML files that people edit by hand (the catalogues a province installs for itself).

Every mapping read remembers the line it starts on (`line_of`), so a checker can say where a problem
is; a key given twice in one mapping is refused (PyYAML would silently keep the last one); and every
way reading can fail comes back as one `ReadProblem` with the line, the key and a reason.
"""

from __future__ import annotations

from pathlib import Path

import yaml


class LinedMap(dict):
    """A YAML mapping that remembers its line."""

    line: int | None = None


class ReadProblem(Exception):
    def __init__(self, line: int | None, key: str | None, reason: str) -> None:
        super().__init__(reason)
        self.line, self.key, self.reason = line, key, reason


class _DuplicateKey(Exception):
    def __init__(self, key: object, line: int) -> None:
        self.key, self.line = key, line


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and records lines."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> LinedMap:
    loader.flatten_mapping(node)
    out = LinedMap()
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise _DuplicateKey(key, key_node.start_mark.line + 1)
        out[key] = loader.construct_object(value_node, deep=True)
    return out


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def read(path: Path) -> object:
    """The file's content, mappings as `LinedMap`; ReadProblem when it cannot be read or parsed."""
    try:
        return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_Loader)
    except _DuplicateKey as e:
        raise ReadProblem(e.line, str(e.key), "key given twice in one mapping; keep one") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ReadProblem(mark.line + 1 if mark else None, None,
                          f"not valid YAML: {getattr(e, 'problem', e)}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ReadProblem(None, None, f"cannot read the file: {e}") from None


def line_of(obj: object) -> int | None:
    return getattr(obj, "line", None)
