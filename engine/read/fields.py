"""Field values from the rows of a warped card: found after their printed labels, decoded with each
field's grammar over the recogniser's probabilities, and returned with their boxes in card pixels."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from engine import layout
from engine.judge import rules
from engine.judge.birth_agreement import birth_as_in_id
from engine.layout import Label
from engine.ocr.rec import RecLine, TextRecognizer, ctc_decode_fixed
from engine.read.field_text import BoxXYXY, Decoded, FieldReading, first_match, merge, split_birth, split_validity
from engine.read.places import Alternative, Gazetteer, gazetteer, issuer_gazetteer
from engine.read.reading import CardLine, Glyph, LabelHit, Row, find_label, match_label
from engine.types import Side

DIGITS = "0123456789"
_ADDRESS_MAX_LINES = 3
_MERGED_CANDIDATES = 3
_STEP_MARGIN = 3  # recogniser time steps (a CJK character spans about six)
# A label read only in part is believed only on a row this close to where it is printed (rows are 6.5 mm apart).
_LABEL_ROW_SLACK_MM = 4.0
# A character this close before the value's column may still be the label's last one.
_LABEL_VALUE_GAP_MM = 1.5
# GB 11643 as printed on this permit: 8, region 1/2/3, 0000, birth date and sequence, check character.
_ID_POSITIONS: tuple[str, ...] = ("8", "123", "0", "0", "0", "0") + (DIGITS,) * 11 + (DIGITS + "X",)
_PROBE_MIN_CONFIDENCE = 0.7
_INK_STEP = 60.0
_INK_SHARE = 0.35
_ISSUE_COUNT_RE = re.compile(r"\d{2}")
# Two digits alone where the count is printed need less certainty than a line of unknown text.
_ISSUE_COUNT_MIN_CONFIDENCE = 0.5
# The back's label rows are 5 mm apart; their values start 25 mm from the card's left edge.
_BACK_ROW_PITCH_MM = 5.0
_BACK_VALUE_COLUMN_MM = 25.0
# What a table edge, a scratch or a shadow line reads as.
_STROKE_NOISE = frozenset({"一", "-", "_", "丨", "|", "1", "I", "l", "二"})


@dataclass(frozen=True, slots=True)
class _Segment:
    line_id: int
    first_step: int
    end_step: int


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\U00020000" <= ch <= "\U0002ffff"


class Grammars:
    """Class masks over the recogniser's alphabet, built once per engine."""

    def __init__(self, recognizer: TextRecognizer) -> None:
        chars = recognizer.alphabet.characters
        cjk = "".join(c for c in chars if c and _is_cjk(c))
        self.name = recognizer.alphabet.mask_for(cjk + "·")
        self.gender = recognizer.alphabet.mask_for("男女")
        self.birth = recognizer.alphabet.mask_for(DIGITS + "年月日")
        self.address = recognizer.alphabet.mask_for(cjk + DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ-#()（）·")
        self.id_number = recognizer.alphabet.mask_for(DIGITS + "X")
        self.id_positions = tuple(recognizer.alphabet.mask_for(chars) for chars in _ID_POSITIONS)
        self.issuer = recognizer.alphabet.mask_for(cjk)
        self.validity = recognizer.alphabet.mask_for(DIGITS + ".-长期")
        self.pass_number = recognizer.alphabet.mask_for(DIGITS + "HM")
        letter, digit = recognizer.alphabet.mask_for("HM"), recognizer.alphabet.mask_for(DIGITS)
        # the printed forms of a pass number: H/M and 8 digits, H/M and 10 (older), 8 digits (Taiwan)
        self.pass_forms = ((letter, *[digit] * 8), (letter, *[digit] * 10), (digit,) * 8)
        self.digits = recognizer.alphabet.mask_for(DIGITS)


class FieldReader:
    def __init__(self, recognizer: TextRecognizer, normalize: Callable[[str], str]) -> None:
        self._rec = recognizer
        self._g = Grammars(recognizer)
        self._normalize = normalize
        # built here, once, not on the first card read
        self._places = gazetteer()
        self._issuer_places = issuer_gazetteer()

    # -- value location -------------------------------------------------------------------------
    def _segments(
        self, lines: Sequence[CardLine], glyphs: Sequence[Glyph], hit_glyphs: Sequence[Glyph], stop: Glyph | None
    ) -> list[_Segment]:
        by_line: dict[int, list[Glyph]] = {}
        for g in glyphs:
            by_line.setdefault(g.line, []).append(g)
        segments = []
        for line_id, line_glyphs in sorted(by_line.items(), key=lambda kv: lines[kv[0]].box.box_xyxy[0]):
            label_in_line = [g.step for g in hit_glyphs if g.line == line_id]
            steps = [g.step for g in line_glyphs]
            # A little room either side lets the field's grammar recover a character the free reading
            # dropped, without reaching into a neighbouring label or value.
            first = max(label_in_line) + 1 if label_in_line else max(0, min(steps) - _STEP_MARGIN)
            end = min(lines[line_id].rec.steps_used, max(steps) + _STEP_MARGIN + 1)
            if stop is not None and stop.line == line_id:
                end = min(end, stop.step)
            first = min(first, min(steps))
            segments.append(_Segment(line_id, first, max(first + 1, end)))
        return segments

    def _decode(self, lines: Sequence[CardLine], segments: Sequence[_Segment], mask: np.ndarray) -> Decoded:
        texts: list[str] = []
        confs: list[float] = []
        xs0: list[float] = []
        xs1: list[float] = []
        ys0: list[float] = []
        ys1: list[float] = []
        recs: list[RecLine] = []
        for seg in segments:
            line = lines[seg.line_id]
            rec = self._rec.redecode(line.rec, mask, seg.first_step, seg.end_step)
            recs.append(rec)
            text = "".join(self._normalize(c) for c in rec.text)
            if not rec.char_steps:
                continue
            texts.append(text)
            confs.extend(rec.char_confidences)
            pitch = (
                (rec.char_steps[-1] - rec.char_steps[0]) / max(1, len(rec.char_steps) - 1)
                if len(rec.char_steps) > 1
                else 4
            )
            xs0.append(line.x_of_step(rec.char_steps[0] - 0.6 * pitch))
            xs1.append(line.x_of_step(rec.char_steps[-1] + 0.6 * pitch + 1))
            box = line.box.box_xyxy
            ys0.append(box[1])
            ys1.append(box[3])
        box_xyxy = (min(xs0), min(ys0), max(xs1), max(ys1)) if xs0 else None
        return Decoded("".join(texts), tuple(confs), box_xyxy, tuple(recs))

    def _value(
        self,
        rows: Sequence[Row],
        lines: Sequence[CardLine],
        hit: LabelHit | None,
        prior_y_px: float,
        value_from_mm: float,
        card_wh: tuple[int, int],
        *,
        x_max: float,
        stop_labels: Sequence[str] = (),
        split_at_gap: bool = False,
    ) -> tuple[list[Glyph], list[Glyph], Glyph | None, int | None]:
        """Glyphs of the value after a label (or, with the label unread, on the row where it should be)."""
        if hit is not None:
            row = rows[hit.row]
            label_glyphs = list(row.glyphs[hit.start : hit.end])
            after = list(row.glyphs[hit.end :])
            row_index: int | None = hit.row
        else:
            pitch = 4.5 / layout.CARD_MM_WH[1] * card_wh[1]
            candidates = [i for i, r in enumerate(rows) if abs(r.y_center - prior_y_px) < 0.5 * pitch]
            if not candidates:
                return [], [], None, None
            row_index = min(candidates, key=lambda i: abs(rows[i].y_center - prior_y_px))
            column = value_from_mm / layout.CARD_MM_WH[0] * card_wh[0]
            label_glyphs = []
            after = _extend_left(rows[row_index], column)
        stop: Glyph | None = None
        text = "".join(g.char for g in after)
        for s in stop_labels:
            score, pos, _ = match_label(text, s)
            if score >= 0.5:
                stop = after[pos]
                after = after[:pos]
                text = text[:pos]
        # A label character left over from a partial match sits left of where values begin; a label
        # printed elsewhere than usual (签发次数 on its own row) keeps its value right after it.
        value_min_x = (value_from_mm - 1.0) / layout.CARD_MM_WH[0] * card_wh[0]
        if label_glyphs:
            value_min_x = min(value_min_x, label_glyphs[-1].x)
        elif after:  # with no label read, the value starts where its run of glyphs does (`_extend_left`)
            value_min_x = min(value_min_x, after[0].x)
        value = [g for g in after if value_min_x <= g.x <= x_max]
        if split_at_gap:
            value, rest = _split_at_gap(value)
            if rest and stop is None:
                stop = rest[0]
        return value, label_glyphs, stop, row_index

    # -- sides --------------------------------------------------------------------------------
    def read(
        self,
        side: Side,
        rows: Sequence[Row],
        lines: Sequence[CardLine],
        card_wh: tuple[int, int],
        card_bgr: np.ndarray | None = None,
    ) -> list[FieldReading]:
        if side == Side.FRONT:
            return self._read_front(rows, lines, card_wh, card_bgr)
        return self._read_back(rows, lines, card_wh, card_bgr)

    def _label_hits(
        self, labels: Sequence[Label], rows: Sequence[Row], card_wh: tuple[int, int]
    ) -> dict[str, LabelHit | None]:
        slack = layout.mm_to_px((0.0, _LABEL_ROW_SLACK_MM), card_wh)[1]
        # where the values this card alone prints were read: another printer's block may sit millimetres off ours
        # (not the ID number's row: the address above it takes one to three lines)
        content = [p for p in _content_pairs(rows, card_wh, front=labels[0].side == Side.FRONT) if p[2] != "id"]
        scale, offset = _fit_rows(content, card_wh, content)
        hits: dict[str, LabelHit | None] = {}
        for lab in labels:
            expected_y = scale * layout.mm_to_px(lab.center_mm, card_wh)[1] + offset
            hit = find_label(rows, lab.text, 0.5 if len(lab.text) <= 2 else 0.6, expected_y, slack)
            hits[lab.text] = None if hit is None else _label_column_only(hit, rows[hit.row], lab, card_wh)
        return hits

    def _simple(
        self,
        name: str,
        label: Label,
        hits: dict[str, LabelHit | None],
        rows: Sequence[Row],
        lines: Sequence[CardLine],
        card_wh: tuple[int, int],
        mask: np.ndarray,
        x_max: float,
        stop_labels: Sequence[str] = (),
        split_at_gap: bool = False,
    ) -> tuple[Decoded, int | None]:
        scale, offset = _row_y_map(rows, hits, card_wh, front=label in layout.FRONT_LABELS)
        prior_y = scale * layout.mm_to_px(label.center_mm, card_wh)[1] + offset
        value, label_glyphs, stop, row_index = self._value(
            rows,
            lines,
            hits[label.text],
            prior_y,
            label.value_from_mm,
            card_wh,
            x_max=x_max,
            stop_labels=stop_labels,
            split_at_gap=split_at_gap,
        )
        if not value:
            return Decoded("", (), None, ()), row_index
        return self._decode(lines, self._segments(lines, value, label_glyphs, stop), mask), row_index

    def _read_front(
        self, rows: Sequence[Row], lines: Sequence[CardLine], card_wh: tuple[int, int], card_bgr: np.ndarray | None
    ) -> list[FieldReading]:
        labels = {lab.field: lab for lab in layout.FRONT_LABELS}
        hits = self._label_hits(layout.FRONT_LABELS, rows, card_wh)
        portrait_x = layout.mm_to_px((layout.PORTRAIT_MM_XYXY[0], 0), card_wh)[0]
        out: list[FieldReading] = []

        name, _ = self._simple("name", labels["name"], hits, rows, lines, card_wh, self._g.name, portrait_x)
        out.append(FieldReading("name", name.text, name.confidences, name.box_xyxy))

        gender, _ = self._simple("gender", labels["gender"], hits, rows, lines, card_wh, self._g.gender, portrait_x)
        if not gender.text and card_bgr is not None:
            # One character alone on its row is the detector's weakest case: look where it must be.
            scale, offset = _row_y_map(rows, hits, card_wh, front=True)
            y = scale * layout.mm_to_px(labels["gender"].center_mm, card_wh)[1] + offset
            x0 = layout.mm_to_px((labels["gender"].value_from_mm, 0), card_wh)[0]
            half = 0.5 * 4.5 / layout.CARD_MM_WH[1] * card_wh[1]
            probe = self._probe_line(card_bgr, (x0, y - half, x0 + 0.12 * card_wh[0], y + half), self._g.gender)
            gender = probe or gender
        out.append(FieldReading("gender", gender.text[:1], gender.confidences[:1], gender.box_xyxy))

        birth, birth_row = self._simple("birth", labels["birth"], hits, rows, lines, card_wh, self._g.birth, portrait_x)
        if card_bgr is not None and birth_row is not None and birth.box_xyxy is not None and "日" not in birth.text:
            # The month and day are short and sit between pale 年/月/日 labels: the detector may stop early.
            row = rows[birth_row]
            rest = self._probe_line(card_bgr, (birth.box_xyxy[2], row.y0, portrait_x, row.y1), self._g.birth)
            if rest is not None:
                birth = merge([birth, rest])
        birth_at = len(out)

        printed = self._address_as_printed(rows, lines, hits, birth_row, portrait_x)
        address = self._with_place_names(
            printed or self._address(rows, lines, hits, labels["address"], card_wh, card_bgr), self._places
        )
        out.append(FieldReading("address", address.text, address.confidences, address.box_xyxy))

        number, _ = self._simple(
            "idcard_number", labels["idcard_number"], hits, rows, lines, card_wh, self._g.id_number, float(card_wh[0])
        )
        reading = self._id_number(number)
        if not rules.is_valid_id_number(reading.text) and card_bgr is not None and number.box_xyxy is not None:
            # Split across two detections, a character can fall between them: read the span whole.
            again = self._id_number_from_crop(card_bgr, number)
            reading = again if again is not None else reading
        out.append(reading)
        out[birth_at:birth_at] = split_birth(self._birth_as_in_id(birth, reading.text))
        return out

    def _address_as_printed(
        self,
        rows: Sequence[Row],
        lines: Sequence[CardLine],
        hits: dict[str, LabelHit | None],
        birth_row: int | None,
        portrait_x: float,
    ) -> Decoded | None:
        """Every line printed between the birth row and the ID number's, whatever its width and wherever the
        printer put it: the address's lines are the only print there. Its column starts where the birth
        date's does (the values share one column); the 住址 label, read or not, stands left of it. None when
        either row is not found (then the template places the address)."""
        id_hit = hits["公民身份号码"]
        id_row = id_hit.row if id_hit is not None else None
        if id_row is None:
            id_row = next((i for i, r in enumerate(rows) if layout.ID_NUMBER_RE.search(r.text)), None)
        if birth_row is None or id_row is None or id_row - birth_row < 2:
            return None
        year = _YEAR_RE.search(rows[birth_row].text)  # the year's first digit, not a label misread as one
        if year is None:
            return None
        pitch = rows[birth_row].y1 - rows[birth_row].y0
        column = rows[birth_row].glyphs[year.start()].x - 0.6 * pitch
        parts = []
        for row in rows[birth_row + 1 : id_row]:
            value = [g for g in row.glyphs if column <= g.x < portrait_x and g.char not in _ADDRESS_LABEL_CHARS]
            label_part, rest = _split_at_gap(value)
            if rest and len(label_part) <= 2:  # a misread label's last character, apart from the value
                value = rest
            if value:
                parts.append(self._decode(lines, self._segments(lines, value, [], None), self._g.address))
        parts = [p for p in parts if p.text]
        return merge(parts) if parts else None

    def _address(
        self,
        rows: Sequence[Row],
        lines: Sequence[CardLine],
        hits: dict[str, LabelHit | None],
        label: Label,
        card_wh: tuple[int, int],
        card_bgr: np.ndarray | None,
    ) -> Decoded:
        right = layout.mm_to_px((layout.ADDRESS_RIGHT_MM, 0), card_wh)[0]
        column = layout.mm_to_px((layout.VALUE_COLUMN_MM - 1.0, 0), card_wh)[0]
        first, label_row = self._simple("address", label, hits, rows, lines, card_wh, self._g.address, right)
        if label_row is None:
            return first
        id_hit = hits["公民身份号码"]
        stop_y = rows[id_hit.row].y0 if id_hit is not None else layout.mm_to_px((0, 44.0), card_wh)[1]
        parts = [first]
        pitch = 4.5 / layout.CARD_MM_WH[1] * card_wh[1]
        last_y = rows[label_row].y_center
        for row in rows[label_row + 1 :]:
            if row.y_center >= stop_y or row.y_center - last_y > 1.6 * pitch:
                break
            value = [g for g in row.glyphs if column <= g.x <= right]
            if not value:
                continue
            parts.append(self._decode(lines, self._segments(lines, value, [], None), self._g.address))
            last_y = row.y_center
        if card_bgr is not None and len(parts) < _ADDRESS_MAX_LINES and stop_y - last_y > 1.5 * pitch:
            # A last line of one or two characters is easily missed by the detector: look for it.
            probe = self._probe_line(
                card_bgr, (column, last_y + 0.55 * pitch, right, last_y + 1.45 * pitch), self._g.address
            )
            if probe is not None:
                parts.append(probe)
        return merge(parts)

    def _with_place_names(self, decoded: Decoded, places: Gazetteer) -> Decoded:
        """Place names one character off a real one are read as it, where the recogniser saw the real
        one's character too (its probability, at or beside the step that emitted the character read)."""
        alternative = self._alternatives(decoded)
        if alternative is None:
            return decoded
        return _with_changes(decoded, *places.correct(decoded.text, alternative, decoded.confidences))

    def _birth_as_in_id(self, birth: Decoded, id_number: str) -> Decoded:
        """The birth row's digits read against the ID number's date, when the number checks."""
        id_birth = rules.id_birth_date(id_number) if rules.is_valid_id_number(id_number) else None
        alternative = self._alternatives(birth) if id_birth is not None else None
        if id_birth is None or alternative is None:
            return birth
        text, confidences = birth_as_in_id(birth.text, birth.confidences, id_birth, alternative)
        return birth if text == birth.text else Decoded(text, confidences, birth.box_xyxy, birth.lines)

    def _alternatives(self, decoded: Decoded) -> Alternative | None:
        """The recogniser's probability for a character at a position of the decoded text, at or beside the
        step that emitted the character read there; None when positions and steps no longer line up."""
        chars = [(rec, k) for rec in decoded.lines for k in range(len(rec.text))]
        if len(chars) != len(decoded.text) or len(decoded.confidences) != len(decoded.text):
            return None  # a character normalised into two

        def alternative(i: int, ch: str) -> float:
            rec, k = chars[i]
            cls = self._rec.alphabet.index_of(ch)
            if cls is None:
                return 0.0
            step = rec.char_steps[k]
            return float(rec.probs[max(0, step - 1) : step + 2, cls].max())

        return alternative

    def _probe_line(self, card_bgr: np.ndarray, box_xyxy: BoxXYXY, mask: np.ndarray) -> Decoded | None:
        """Reads a region where the detector found nothing although ink is there."""
        x0, y0, _, y1 = (round(v) for v in box_xyxy)
        crop = _cut(card_bgr, box_xyxy)
        if crop.size == 0:
            return None
        gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
        paper = float(np.median(gray))
        # print is a share darker than its paper: in a dim photo the step is smaller than on a bright one
        ink = gray < paper - min(_INK_STEP, _INK_SHARE * paper)
        if ink.mean() < 0.004:
            return None
        cols = np.flatnonzero(ink.any(axis=0))
        tight = crop[:, max(0, cols[0] - 8) : cols[-1] + 8]
        rec = self._rec([tight])[0]
        rec = self._rec.redecode(rec, mask)
        if not rec.text or min(rec.char_confidences) < _PROBE_MIN_CONFIDENCE or rec.text in _STROKE_NOISE:
            return None
        text = "".join(self._normalize(c) for c in rec.text)
        left = x0 + max(0, cols[0] - 8)
        box = (float(left), float(y0), float(x0 + cols[-1] + 8), float(y1))
        return Decoded(text, rec.char_confidences, box, (rec,))

    def _issue_count(
        self,
        rows: Sequence[Row],
        lines: Sequence[CardLine],
        hits: dict[str, LabelHit | None],
        label: Label,
        pass_row: int | None,
        card_wh: tuple[int, int],
    ) -> FieldReading:
        """签发次数 follows its label; with the label unread, it is the last two digits printed after the
        pass number on its row (one-row layout) or on the row below it (two-row layout)."""
        width = float(card_wh[0])
        if hits[label.text] is not None or pass_row is None:
            count, _ = self._simple("issue_count", label, hits, rows, lines, card_wh, self._g.digits, width)
        else:
            pass_label = next(lab for lab in layout.BACK_LABELS if lab.field == "eep_number")
            column = layout.mm_to_px((pass_label.value_from_mm, 0), card_wh)[0]
            _, rest = _split_at_gap([g for g in rows[pass_row].glyphs if g.x >= column])
            if not rest and pass_row + 1 < len(rows):
                rest = list(rows[pass_row + 1].glyphs)
            if not rest:
                return FieldReading("issue_count", "", (), None)
            count = self._decode(lines, self._segments(lines, rest, [], None), self._g.digits)
        digits = re.findall(r"\d{2}", count.text)
        return FieldReading("issue_count", digits[-1] if digits else count.text, count.confidences, count.box_xyxy)

    def _pass_number_by_grammar(self, number: Decoded) -> str:
        """The pass number read again as a whole: the most probable of its printed forms (H or M then
        eight or ten digits, or eight digits) over the same stretch of the crop. A greedy reading may
        split H into 11 or merge two equal digits; a fixed-length reading cannot."""
        fallback = first_match(r"[HM]\d{8}(?:\d{2})?|\d{8}", number.text) or number.text
        if len(number.lines) != 1:
            return fallback
        readings = [r for r in (self._read_fixed(number.lines[0], masks) for masks in self._g.pass_forms) if r]
        return max(readings, key=lambda r: r[1])[0] if readings else fallback

    def _read_fixed(self, rec: RecLine, masks: Sequence[np.ndarray]) -> tuple[str, float] | None:
        """The stretch of `rec` its greedy reading covered (with a little room either side) read again
        as exactly one character per mask: (text, log-probability), or None."""
        if not rec.char_steps:
            return None
        first = max(0, rec.char_steps[0] - _STEP_MARGIN)
        end = min(rec.steps_used, rec.char_steps[-1] + _STEP_MARGIN + 1)
        found = ctc_decode_fixed(rec.probs, first, end, masks)
        if found is None:
            return None
        return "".join(self._rec.alphabet.characters[i] for i in found[0]), found[1]

    def _id_number_from_crop(self, card_bgr: np.ndarray, decoded: Decoded) -> FieldReading | None:
        assert decoded.box_xyxy is not None
        x0, y0, x1, y1 = decoded.box_xyxy
        pad_x, pad_y = 0.4 * (y1 - y0), 0.15 * (y1 - y0)
        h, w = card_bgr.shape[:2]
        crop = card_bgr[
            max(0, round(y0 - pad_y)) : min(h, round(y1 + pad_y)), max(0, round(x0 - pad_x)) : min(w, round(x1 + pad_x))
        ]
        if crop.size == 0:
            return None
        rec = self._rec.redecode(self._rec([crop])[0], self._g.id_number)
        whole = Decoded(rec.text, rec.char_confidences, decoded.box_xyxy, (rec,))
        reading = self._id_number(whole)
        return reading if rules.is_valid_id_number(reading.text) else None

    def _id_number(self, decoded: Decoded) -> FieldReading:
        """Read with the number's positional grammar (8, region digit, 0000, then digits and a check
        character), then repaired with the recogniser's runner-ups if the check character disagrees."""
        text = decoded.text
        if len(decoded.lines) == 1:
            rec = decoded.lines[0]
            if len(rec.text) == len(self._g.id_positions):
                text = _decode_positions(rec, self._rec, self._g.id_positions)
            if not rules.is_valid_id_number(text):
                text = _repair_with_alternatives(rec, text, self._rec, self._g.id_number, rules.is_valid_id_number)
            if len(text) == 17:
                text = _restore_merged_repeat(rec, text, self._g.id_number) or text
            if not rules.is_valid_id_number(text):
                # read again as exactly eighteen characters, each from what its position allows; kept
                # only when the check character confirms it
                fixed = self._read_fixed(rec, self._g.id_positions)
                if fixed is not None and rules.is_valid_id_number(fixed[0]):
                    text = fixed[0]
        if len(text) == 17 and rules.is_valid_id_number("8" + text):
            text = "8" + text  # the leading 8 lost at the crop's edge; the check character confirms it
        return FieldReading("idcard_number", text, decoded.confidences, decoded.box_xyxy)

    def _read_back(
        self, rows: Sequence[Row], lines: Sequence[CardLine], card_wh: tuple[int, int], card_bgr: np.ndarray | None
    ) -> list[FieldReading]:
        labels = {lab.field: lab for lab in layout.BACK_LABELS if lab.field}
        hits = self._label_hits(layout.BACK_LABELS, rows, card_wh)
        width = float(card_wh[0])
        out: list[FieldReading] = []

        issuer, _ = self._simple("issued_by", labels["issued_by"], hits, rows, lines, card_wh, self._g.issuer, width)
        issuer = self._with_place_names(issuer, self._issuer_places)
        out.append(FieldReading("issued_by", issuer.text, issuer.confidences, issuer.box_xyxy))

        validity, _ = self._simple("validity", labels["validity"], hits, rows, lines, card_wh, self._g.validity, width)
        out.extend(split_validity(validity))

        number, pass_row = self._simple(
            "eep_number",
            labels["eep_number"],
            hits,
            rows,
            lines,
            card_wh,
            self._g.pass_number,
            width,
            stop_labels=("签发次数",),
            split_at_gap=True,
        )
        text = number.text if rules.is_valid_pass_number(number.text) else self._pass_number_by_grammar(number)
        out.append(FieldReading("eep_number", text, number.confidences, number.box_xyxy))
        count = self._issue_count(rows, lines, hits, labels["issue_count"], pass_row, card_wh)
        if not _ISSUE_COUNT_RE.fullmatch(count.text) and card_bgr is not None and pass_row is not None:
            count = self._probe_issue_count(card_bgr, rows[pass_row], card_wh) or count
        out.append(count)
        return out

    def _probe_issue_count(self, card_bgr: np.ndarray, pass_row: Row, card_wh: tuple[int, int]) -> FieldReading | None:
        """签发次数 printed on the card's last row, below the pass number, is easily missed by the detector
        (small, pale, near the edge): look where it must be, then at the pass number row's end (the
        one-row layout)."""
        pitch = layout.mm_to_px((0.0, _BACK_ROW_PITCH_MM), card_wh)[1]
        column = layout.mm_to_px((_BACK_VALUE_COLUMN_MM - 1.0, 0.0), card_wh)[0]
        y = pass_row.y_center
        regions = (
            (column, y + 0.55 * pitch, column + 0.16 * card_wh[0], y + 1.45 * pitch),
            (0.76 * card_wh[0], y - 0.45 * pitch, 0.95 * card_wh[0], y + 0.45 * pitch),
        )
        for x0, y0, x1, y1 in regions:
            crop = _cut(card_bgr, (x0, y0, x1, y1))
            if crop.size == 0:
                continue
            # Two digits read confidently with every class allowed are no stain; faint print passes
            # where an ink threshold would not.
            rec = self._rec([crop])[0]
            # the crop's ends may hold a stroke of the card's edge or of the next field: read unsure
            sure = [k for k, c in enumerate(rec.char_confidences) if c >= _ISSUE_COUNT_MIN_CONFIDENCE]
            text = "".join(rec.text[k] for k in sure)
            if _ISSUE_COUNT_RE.fullmatch(text) and sure[1] == sure[0] + 1:
                half = 0.4 * (y1 - y0)
                left = x0 + rec.char_x_fraction[sure[0]] * (x1 - x0) - half
                right = x0 + rec.char_x_fraction[sure[1]] * (x1 - x0) + half
                confidences = tuple(rec.char_confidences[k] for k in sure)
                return FieldReading("issue_count", text, confidences, (left, y0, right, y1))
        return None


_BIRTH_ROW_RE = re.compile(r"\d{4}年")
_ADDRESS_LABEL_CHARS = frozenset("住址")
# (template y, observed y, what): a row placed on the card by a label or by its own content
RowPair = tuple[float, float, str]
# The validity range whole (two full dates), and where its row and the pass number's are printed on our template.
_VALIDITY_ROW_RE = re.compile(r"20\d{2}\.?\d{2}\.?\d{2}-20\d{2}\.?\d{2}\.?\d{2}")
_VALIDITY_MM = next(lab.center_mm for lab in layout.BACK_LABELS if lab.field == "validity")
_PASS_NUMBER_MM = next(lab.center_mm for lab in layout.BACK_LABELS if lab.field == "eep_number")
# A glyph this many of the value's pitches before its first one still belongs to it.
_RUN_ON_PITCHES = 1.4
_RUN_ON_HEIGHTS = 0.7
# A printed block this far (share of the card's height) from the template is another printer's, not a misread.
_MAX_BLOCK_SHIFT = 0.15
_YEAR_RE = re.compile(r"(19|20)\d{2}")


def _cut(card_bgr: np.ndarray, box_xyxy: BoxXYXY) -> np.ndarray:
    """The card's pixels inside a box in card pixels; a box reaching past the top or left edge is cut there."""
    x0, y0, x1, y1 = (max(0, round(v)) for v in box_xyxy)
    return card_bgr[y0:y1, x0:x1]


def _label_column_only(hit: LabelHit, row: Row, label: Label, card_wh: tuple[int, int]) -> LabelHit | None:
    """The hit without trailing characters that did not read as the label and stand where the value
    is printed: 住址 read as 住广东省… keeps 广 for the address."""
    value_x = layout.mm_to_px((label.value_from_mm - _LABEL_VALUE_GAP_MM, 0.0), card_wh)[0]
    end = hit.end
    while end > hit.start:
        k = end - 1
        label_char = label.text[k - hit.start] if k - hit.start < len(label.text) else ""
        if row.glyphs[k].char == label_char or row.glyphs[k].x < value_x:
            break
        end = k
    if end == hit.start:
        return None
    return hit if end == hit.end else replace(hit, end=end)


def _row_y_map(
    rows: Sequence[Row], hits: dict[str, LabelHit | None], card_wh: tuple[int, int], front: bool
) -> tuple[float, float]:
    """Where the printed rows really are, as `observed y = scale * template y + offset`.

    With the card's outline a little off (a blurred top edge, say), rows drift from their template
    positions; the labels that were read, the ID number's row and the birth row tell by how much, so
    a field whose label is unreadable is still looked for on the right row.
    """
    pairs: list[RowPair] = []
    for label in layout.ALL_LABELS:
        hit = hits.get(label.text)
        if hit is not None and label.field != "issue_count":
            pairs.append((layout.mm_to_px(label.center_mm, card_wh)[1], rows[hit.row].y_center, "label"))
    birth_read = hits.get("出生") is not None
    content = [p for p in _content_pairs(rows, card_wh, front) if not (birth_read and p[2] == "birth")]
    return _fit_rows(pairs + content, card_wh, content)


def _content_pairs(
    rows: Sequence[Row], card_wh: tuple[int, int], front: bool
) -> list[RowPair]:
    """(template y, observed y, what) for rows whose own text says which they are: the ID number's and the
    birth row on a front; the validity range's and the pass number's on a back (a misread label, 签 as 年
    after the pass number's digits, must not pass for a front's birth row there)."""
    pairs: list[RowPair] = []
    for row in rows:
        if front and layout.ID_NUMBER_RE.search(row.text):
            pairs.append((layout.mm_to_px((0.0, layout.ID_NUMBER_Y_MM), card_wh)[1], row.y_center, "id"))
        elif front and _BIRTH_ROW_RE.search(row.text):
            pairs.append((layout.mm_to_px((0.0, 22.8), card_wh)[1], row.y_center, "birth"))
        elif not front and _VALIDITY_ROW_RE.search(row.text):
            pairs.append((layout.mm_to_px(_VALIDITY_MM, card_wh)[1], row.y_center, "validity"))
        elif not front and layout.PASS_NUMBER_RE.search(row.text):
            pairs.append((layout.mm_to_px(_PASS_NUMBER_MM, card_wh)[1], row.y_center, "pass"))
    return pairs


def _fit_rows(pairs: Sequence[RowPair], card_wh: tuple[int, int], content: Sequence[RowPair]) -> tuple[float, float]:
    """`observed y = scale * template y + offset`: a line through the pairs when they span a fifth of the card;
    else the mean shift of the rows read by their own content (`content`); no change otherwise."""
    template = np.array([p[0] for p in pairs])
    if len(pairs) >= 2 and np.ptp(template) >= 0.2 * card_wh[1]:
        scale, offset = np.polyfit(template, np.array([p[1] for p in pairs]), 1)
        if 0.75 <= scale <= 1.33:
            return float(scale), float(offset)
    shifts = [p[1] - p[0] for p in content]
    if shifts and abs(float(np.mean(shifts))) <= _MAX_BLOCK_SHIFT * card_wh[1] and np.ptp(shifts) < 0.05 * card_wh[1]:
        return 1.0, float(np.mean(shifts))
    return 1.0, 0.0


def _extend_left(row: Row, column: float) -> list[Glyph]:
    """The row's glyphs from `column` on, and the ones just before it that run on at the value's own pitch:
    another printer's value column may start a character or two left of ours; a label stands a wider gap off."""
    glyphs = row.glyphs
    start = next((i for i, g in enumerate(glyphs) if g.x >= column), len(glyphs))
    if start == len(glyphs) or len(glyphs) - start < 3:
        return list(glyphs[start:])
    pitch = float(np.median([b.x - a.x for a, b in itertools.pairwise(glyphs[start:])]))
    # narrow glyphs (dots, digits) run closer than characters: a character's height is a pitch too
    reach = max(_RUN_ON_PITCHES * pitch, _RUN_ON_HEIGHTS * (row.y1 - row.y0))
    while start > 0 and glyphs[start].x - glyphs[start - 1].x <= reach:
        start -= 1
    return list(glyphs[start:])


def _split_at_gap(glyphs: list[Glyph]) -> tuple[list[Glyph], list[Glyph]]:
    """Value glyphs up to the first gap wider than three character pitches (another value follows). A lone
    character before such a gap is no pass number (eight characters or more): it is the label's last character,
    misread and standing where values begin (通行证号间 97360581)."""
    if len(glyphs) < 3:
        return glyphs, []
    gaps = [b.x - a.x for a, b in itertools.pairwise(glyphs)]
    pitch = float(np.median(gaps))
    start = 0
    for i, gap in enumerate(gaps):
        if gap > 3.0 * max(pitch, 1.0):
            if i + 1 - start > 1:
                return glyphs[start : i + 1], glyphs[i + 1 :]
            start = i + 1
    return glyphs[start:], []


def _decode_positions(rec: RecLine, recognizer: TextRecognizer, masks: Sequence[np.ndarray]) -> str:
    """At each emitted character's step, the best class its position allows."""
    chars = []
    for step, mask in zip(rec.char_steps, masks, strict=True):
        idx = int(np.argmax(np.where(mask, rec.probs[step], -1.0)))
        chars.append(recognizer.alphabet.characters[idx])
    return "".join(chars)


def _restore_merged_repeat(rec: RecLine, text: str, mask: np.ndarray) -> str | None:
    """Blur can merge two equal neighbours ("00" into one long "0"): CTC then emits one character.

    Such a character holds the arg-max for about twice as many time steps as the others. The widest
    runs are doubled in turn; a candidate is kept only when the check character confirms it.
    """
    if len(rec.char_steps) != len(text):
        return None
    best = np.where(mask[None, :], rec.probs[: rec.steps_used], -1.0).argmax(axis=1)
    widths = []
    for step in rec.char_steps:
        end = step
        while end + 1 < len(best) and best[end + 1] == best[step]:
            end += 1
        widths.append(end - step + 1)
    typical = float(np.median(widths))
    for i in sorted(range(len(text)), key=lambda k: -widths[k])[:_MERGED_CANDIDATES]:
        if widths[i] < 1.6 * typical:
            break
        candidate = text[: i + 1] + text[i:]
        if rules.is_valid_id_number(candidate):
            return candidate
    return None


def _with_changes(decoded: Decoded, text: str, changed: dict[int, float]) -> Decoded:
    """`decoded` with its text changed at some positions, each taking the probability its new character had."""
    if not changed:
        return decoded
    confidences = tuple(changed.get(i, c) for i, c in enumerate(decoded.confidences))
    return Decoded(text, confidences, decoded.box_xyxy, decoded.lines)


def _repair_with_alternatives(
    rec: RecLine, text: str, recognizer: TextRecognizer, mask: np.ndarray, valid: Callable[[str], bool]
) -> str:
    """When the best reading fails the check character, try the runner-up at the least certain steps.

    The check character makes one misread digit detectable; the runner-up class at each emitted step
    is the recogniser's own second opinion, so the repair stays within what the image supports.
    """
    if not rec.char_steps or len(text) != len(rec.char_steps):
        return text
    scores = np.where(mask[None, :], rec.probs, -1.0)
    best_fix: tuple[float, str] | None = None
    order = np.argsort(rec.char_confidences)[:6]
    for pos in order:
        step = rec.char_steps[pos]
        ranked = np.argsort(scores[step])[::-1]
        for idx in ranked[1:3]:
            ch = recognizer.alphabet.characters[int(idx)]
            if not ch or scores[step, idx] <= 0:
                continue
            candidate = text[:pos] + ch + text[pos + 1 :]
            if valid(candidate):
                p = float(scores[step, idx])
                if best_fix is None or p > best_fix[0]:
                    best_fix = (p, candidate)
    return best_fix[1] if best_fix else text
