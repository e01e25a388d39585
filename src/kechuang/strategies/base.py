"""Strategy base class, registry and parameter validation with one-line errors."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticError

from kechuang.core.errors import ValidationError

STRATEGIES: dict[str, type[Strategy]] = {}


class Strategy(BaseModel):
    """Base: frozen, no unknown parameters. `shape` is "columns" or "portfolio"."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: ClassVar[str] = ""
    shape: ClassVar[str] = "portfolio"

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if cls.name:
            STRATEGIES[cls.name] = cls

    @classmethod
    def build(cls, **params: Any) -> Strategy:
        """Construct with validation; errors become one-line ValidationErrors."""
        try:
            return cls(**params)
        except PydanticError as e:
            err = e.errors()[0]
            loc = ".".join(str(x) for x in err.get("loc", ())) or "parameters"
            value = err.get("input")
            if err.get("type") == "extra_forbidden":
                known = ", ".join(cls.model_fields)
                raise ValidationError(f"strategy {cls.name!r} has no parameter {loc!r} "
                                      f"(parameters: {known})") from None
            msg = str(err.get("msg", "")).removeprefix("Value error, ")
            if not err.get("loc"):
                raise ValidationError(f"strategy {cls.name!r}: {msg}") from None
            raise ValidationError(f"strategy {cls.name!r}: parameter {loc}={value!r}: "
                                  f"{msg}") from None

    def params(self) -> dict[str, Any]:
        return self.model_dump()


def make_strategy(name: str | Strategy, **params: Any) -> Strategy:
    """A strategy by name (or a copy of an instance with `params` replaced)."""
    if isinstance(name, Strategy):
        return type(name).build(**{**name.params(), **params}) if params else name
    cls = STRATEGIES.get(str(name).lower().replace("-", "_"))
    if cls is None:
        raise ValidationError(f"unknown strategy {name!r}; known: {', '.join(sorted(STRATEGIES))}")
    return cls.build(**params)
