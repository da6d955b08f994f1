"""Turn a pydantic ``ValidationError`` into one plain line naming the field and its range."""

from __future__ import annotations

import typing
from types import UnionType
from typing import Any, Union

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo


def field_bounds(info: FieldInfo) -> tuple[Any, Any]:
    """The (low, high) limits declared with ``ge``/``gt``/``le``/``lt``, ``None`` if open;
    for ``Annotated[int, Field(ge=…)] | Literal["auto"]`` those of the number."""
    low = high = None
    for rule in _rules(info):
        for attr in ("ge", "gt"):
            if getattr(rule, attr, None) is not None:
                low = getattr(rule, attr)
        for attr in ("le", "lt"):
            if getattr(rule, attr, None) is not None:
                high = getattr(rule, attr)
    return low, high


def explain(exc: ValidationError, model: type[BaseModel] | None = None) -> str:
    """``"augment.rotate.degrees: must be between 0 and 180 (got 400)"`` for the first error.

    ``model`` is the class that was validated; with it the allowed range is looked up.
    """
    err = exc.errors()[0]
    loc = [str(part) for part in err["loc"]]
    info = _field_info(model, loc) if model is not None else None
    parent = _field_info(model, loc[:-1]) if model is not None and info is None else None
    union = parent is not None and typing.get_origin(parent.annotation) in (Union, UnionType)
    if union:  # a union reports each member ("constrained-int", "literal['auto']"): drop it
        loc, info = loc[:-1], parent
    where = ".".join(loc) or "value"
    got = err.get("input")
    shown = f" (got {got!r})" if isinstance(got, int | float | str) and len(repr(got)) < 40 else ""
    if union and err["type"] not in _RANGE_ERRORS:
        low, high = field_bounds(info)
        words = ", ".join(repr(c) for c in _literals(info.annotation))
        return f"{where}: must be a whole number from {_num(low)} to {_num(high)} or {words}{shown}"
    if info is not None and err["type"] in _RANGE_ERRORS:
        low, high = field_bounds(info)
        if low is not None and high is not None:
            return f"{where}: must be between {_num(low)} and {_num(high)}{shown}"
        if low is not None:
            return f"{where}: must be at least {_num(low)}{shown}"
        if high is not None:
            return f"{where}: must be at most {_num(high)}{shown}"
    if err["type"] == "extra_forbidden":
        known = _known_fields(model, loc[:-1]) if model is not None else []
        hint = f" (known: {', '.join(known)})" if known else ""
        return f"{where}: unknown setting{hint}"
    return f"{where}: {err['msg'].removeprefix('Value error, ')}{shown}"


_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def _rules(info: FieldInfo) -> list[Any]:
    rules = list(info.metadata)
    for arg in typing.get_args(info.annotation):
        rules += [m for a in typing.get_args(arg) for m in getattr(a, "metadata", ())]
    return rules


def _literals(annotation: Any) -> list[Any]:
    return [
        value
        for arg in typing.get_args(annotation)
        if typing.get_origin(arg) is typing.Literal
        for value in typing.get_args(arg)
    ]


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _walk(model: type[BaseModel] | None, loc: list[str]) -> type[BaseModel] | None:
    for part in loc:
        if model is None or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation if is_model else None
    return model


def _field_info(model: type[BaseModel], loc: list[str]) -> FieldInfo | None:
    owner = _walk(model, loc[:-1])
    if owner is None or not loc:
        return None
    return owner.model_fields.get(loc[-1])


def _known_fields(model: type[BaseModel], loc: list[str]) -> list[str]:
    owner = _walk(model, loc)
    return list(owner.model_fields) if owner is not None else []
