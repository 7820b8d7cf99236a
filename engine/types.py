"""The engine's typed, immutable results. The engine always returns `CardResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

# Four corners in image pixels, always in the order left-top, right-top, right-bottom, left-bottom.
PointXY = tuple[float, float]
QuadXY = tuple[PointXY, PointXY, PointXY, PointXY]

ZERO_QUAD: QuadXY = ((0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0))


class Side(IntEnum):
    FRONT = 0  # 人像面
    BACK = 1  # 国徽面


class ResultCode(IntEnum):
    OK = 1001
    EXCEPTION = 1002


# Wire names of the fields per side, in the order they are printed on the card.
FRONT_FIELDS: tuple[str, ...] = (
    "name",
    "gender",
    "birth_year",
    "birth_month",
    "birth_day",
    "address",
    "idcard_number",
)
BACK_FIELDS: tuple[str, ...] = (
    "issued_by",
    "valid_date_start",
    "valid_date_end",
    "eep_number",
    "issue_count",
)
# Fields the vendor API returns; `issue_count` (签发次数) is our addition.
VENDOR_BACK_FIELDS: tuple[str, ...] = BACK_FIELDS[:4]
EXTRA_FIELDS: frozenset[str] = frozenset(BACK_FIELDS[4:])

QUALITY_THRESHOLD_DEFAULT = 0.15


@dataclass(frozen=True, slots=True)
class ExceptionRange:
    """Which anomalies turn 1001 into 1002 (the vendor's `exception_range`, with its defaults)."""

    text_quality: bool = True
    logic: bool = True
    completeness: bool = False
    face_detect: bool = False


@dataclass(frozen=True, slots=True)
class RecognizeOptions:
    return_portrait: bool = False
    exception_range: ExceptionRange = ExceptionRange()
    quality_threshold: float = QUALITY_THRESHOLD_DEFAULT


@dataclass(frozen=True, slots=True)
class FieldResult:
    """One field as read: text ('' when not read), quality in [0, 1], quad in original pixels."""

    name: str
    text: str
    quality: float
    quad_xy: QuadXY = ZERO_QUAD
    logic: int = 0  # 1: the reading breaks a rule (checksum, parity, date, region, missing)

    def __post_init__(self) -> None:
        if not 0.0 <= self.quality <= 1.0:
            raise ValueError(f"quality out of [0, 1]: {self.quality}")
        if self.logic not in (0, 1):
            raise ValueError(f"logic must be 0 or 1: {self.logic}")


@dataclass(frozen=True, slots=True)
class Portrait:
    """The photo region of the front; `jpeg` only when a face was found in it."""

    quad_xy: QuadXY
    face_found: bool
    jpeg: bytes | None = None
    face_score: float = 0.0


@dataclass(frozen=True, slots=True)
class StageTiming:
    stage: str
    elapsed_ms: float


@dataclass(frozen=True, slots=True)
class CardResult:
    side: Side
    fields: tuple[FieldResult, ...]
    card_quad_xy: QuadXY
    completeness: int  # 0 whole card, 1 cut but all key content inside, 2 content cut off
    result_code: ResultCode
    portrait: Portrait | None = None
    timings: tuple[StageTiming, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.completeness not in (0, 1, 2):
            raise ValueError(f"completeness must be 0, 1 or 2: {self.completeness}")

    def field(self, name: str) -> FieldResult | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def elapsed_ms(self) -> float:
        return sum(t.elapsed_ms for t in self.timings)
