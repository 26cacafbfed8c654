"""The whole state as JSON and back: every record of both stores, with their timestamps and tombstones.

Written here because the state is our own dataclasses; a generic codec over them is a few lines.
"""

import dataclasses
from datetime import datetime
from typing import Any

from ..domain import models
from ..domain.onlive import models as onlive_models
from ..store import MemoryStore, OnliveMemoryStore

FORMAT = "bookingkit-state/1"
TYPES = {
    cls.__name__: cls
    for module in (models, onlive_models)
    for cls in vars(module).values()
    if dataclasses.is_dataclass(cls) and isinstance(cls, type)
}


class SnapshotError(ValueError):
    """An import that is not a state export of this version; the message says what is wrong."""


def encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return {"@type": type(value).__name__, **fields}
    if isinstance(value, datetime):
        return {"@instant": value.isoformat()}
    if isinstance(value, tuple):
        return {"@tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):  # wrapped, so a partner's own keys (say "@instant" in extraFields) stay data
        return {"@dict": {key: encode(v) for key, v in value.items()}}
    return value


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "@dict" in value:
        return {key: decode(v) for key, v in value["@dict"].items()}
    if "@instant" in value:
        moment = datetime.fromisoformat(value["@instant"])
        if moment.tzinfo is None:
            raise SnapshotError(f"instant {value['@instant']!r} has no UTC offset")
        return moment
    if "@tuple" in value:
        return tuple(decode(v) for v in value["@tuple"])
    if "@type" in value:
        cls = TYPES.get(value["@type"])
        if cls is None:
            raise SnapshotError(f"unknown record type {value['@type']!r}")
        return cls(**{k: decode(v) for k, v in value.items() if k != "@type"})
    raise SnapshotError(f"not a record of a state export: {str(value)[:100]}")


def export_state(wingfield: MemoryStore, onlive: OnliveMemoryStore) -> dict[str, Any]:
    return {"format": FORMAT, "wingfield": encode(wingfield.dump()), "onlive": encode(onlive.dump())}


def import_state(document: Any) -> tuple[MemoryStore, OnliveMemoryStore]:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnapshotError(f'not a state export: expected an object with "format": "{FORMAT}"')
    try:
        return MemoryStore.load(decode(document["wingfield"])), OnliveMemoryStore.load(decode(document["onlive"]))
    except SnapshotError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SnapshotError(f"the state export is damaged: {exc!r}") from None
