"""Where a pass number's value ends on its row, and where it starts when the label's last character was misread
where values begin (pure, on glyph positions)."""

from engine.read.fields import _split_at_gap
from engine.read.reading import Glyph


def _glyphs(*runs: tuple[str, float]) -> list[Glyph]:
    """Runs of characters, each starting at its x, 10 px apart within a run."""
    out = []
    for text, x0 in runs:
        out.extend(Glyph(ch, 0.9, x0 + 10.0 * k, 0, len(out) + k) for k, ch in enumerate(text))
    return out


def _text(glyphs: list[Glyph]) -> str:
    return "".join(g.char for g in glyphs)


def test_the_value_ends_at_the_first_wide_gap() -> None:
    value, rest = _split_at_gap(_glyphs(("H12345678", 300.0), ("01", 600.0)))
    assert (_text(value), _text(rest)) == ("H12345678", "01")


def test_a_lone_character_before_the_gap_is_the_labels_not_the_value() -> None:
    """通行证号码 read as 通行证号间, its 间 standing where values begin: the number is the run after the gap."""
    value, rest = _split_at_gap(_glyphs(("间", 250.0), ("97360581", 300.0), ("02", 600.0)))
    assert (_text(value), _text(rest)) == ("97360581", "02")


def test_a_lone_character_then_the_value_alone() -> None:
    value, rest = _split_at_gap(_glyphs(("间", 250.0), ("97360581", 300.0)))
    assert (_text(value), _text(rest)) == ("97360581", "")


def test_a_value_with_no_gap_is_whole() -> None:
    value, rest = _split_at_gap(_glyphs(("M1234567890", 300.0)))
    assert (_text(value), _text(rest)) == ("M1234567890", "")
