"""The orchestrator: composes the stages it is given; one immutable instance serves every thread."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import numpy as np

from engine import layout
from engine.config import EngineConfig
from engine.errors import CardNotFoundError
from engine.image import geometry
from engine.image.decode import decode_scaled
from engine.judge import rules, scoring
from engine.judge.field_confidence import QualityModel, field_features
from engine.locate import anchored_snap, edge_snap, print_margins, template_fit
from engine.locate.anchor_locate import AnchorLocator
from engine.locate.card_locate import CardLocator, QuadCandidate, frame_outline
from engine.locate.outline_model import LearnedOutline, OutlineModel
from engine.ocr.kit import OcrKit
from engine.portrait.face_crop import PortraitStage
from engine.read.card_reader import QUICK_ORIENT_LINES, WELL_READ, CardReader, CardReading
from engine.read.field_text import FieldReading
from engine.read.fields import FieldReader
from engine.types import (
    EXTRA_FIELDS,
    ZERO_QUAD,
    CardResult,
    FieldResult,
    Portrait,
    QuadXY,
    RecognizeOptions,
    Side,
    StageTiming,
)

logger = logging.getLogger(__name__)

# Work one request runs beside its own main line (the portrait beside the fields): one thread per core
# is enough for every request in flight, since each waits for its own job.
_BESIDE = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="hmt-beside")

# The geometric cue offers a few outlines; reading one costs ~150 ms, so only the best are tried.
_MAX_QUADS_TRIED = 3
# Outlines below the geometric cue's own bar tried when nothing else read.
_MAX_WEAK_TRIED = 3
# Corners further apart than this share of the diagonal: outline and labels disagree.
_LABELS_DISAGREE = 0.06
# Anchors read (labels, the ends of the ID number or titles) needed to judge an outline by them.
_MIN_ANCHORS = 3
# Mean anchor offset, as a share of the diagonal, within the printing's own jitter (~1 mm).
_ANCHORS_AGREE = 0.014
# Anchors this close to an outline along an edge on every side: the print is off our template, not the outline.
_ANCHORS_NEAR = 0.025
# Another outline is taken when it puts the anchors this close, and clearly closer than the one read.
_ANCHORS_CLOSE = 0.02
# How much further from the anchors than the fitted outline an edge-snapped one may put them.
_ANCHORS_SLACK = 0.01
# Anchors this close count as agreeing with an outline refitted to the edges, whatever the first one said.
_ANCHORS_SETTLED = 0.016
# Support (sides, each up to one) above which an outline the anchors agree with is not searched again.
_SETTLED_SUPPORT = 3.9
# How much more of the outline the photo's edges must show (in sides) to refit it to them; less when
# every side of the refitted outline runs along an edge found.
_SUPPORT_MARGIN = 0.25
_SUPPORT_MARGIN_ALL_SIDES = 0.05
# Half a side more along the photo's edges: the settled outline is the card's even if fewer labels read on it.
_SUPPORT_CLEAR = 0.5
# Anchors enough to outweigh the edges, and how much less of the outline the edges may then show.
_MANY_ANCHORS = 5
_SUPPORT_SLACK = 0.1
# Anchors a little off the outline read give it up only for an outline the edges show no more than about a side
# less of: one with a side and a half fewer along the photo's edges is another object the print happens to fit.
_SIDES_FEWER = 1.5
# A replaced outline is judged again by the anchors it let us read; twice is enough in practice.
_AGREEMENT_ROUNDS = 2
# Where a side that cuts the print is searched for the card's own edge: this far out, as a share of the diagonal.
_BEYOND_NEAR, _BEYOND_REACH = 0.01, 0.2
# Sides moved out one after the other: the bottom, then the right side the number's whole row reaches.
_UNCUT_ROUNDS = 2
# 1.2 mm over the card's 101 mm diagonal.
_ROUNDED_CORNER_SHARE = 0.012
# A corner this close to the photo's edge may be where the photo cut the card, not the card's corner.
_EDGE_MARGIN_PX = 3.0


@dataclass(frozen=True, slots=True)
class Stages:
    locator: CardLocator
    anchors: AnchorLocator
    reader: CardReader
    # Reads the best outline first, with the int8 detector; its reading is kept when it is plainly right.
    fast_reader: CardReader | None
    fields: FieldReader
    portrait: PortraitStage
    # The learned card outline; None runs the classical searches alone.
    outline: OutlineModel | None = None
    # The learned field quality; None keeps the confidence-times-cues formula.
    quality: QualityModel | None = None


@dataclass(frozen=True, slots=True)
class LearnedOutlineUse:
    """When the learned outline is read first and taken."""

    # confidence (mask IoU x certainty) from which its outline, snapped to the photo's edges, is read before any
    # search: on fresh photos of every tier and the field sample, 95 % of such outlines are within 2 %
    trust: float = 0.85
    # a search's outline this much less covered by the card's mask than the learned one loses to it
    mask_margin: float = 0.08
    # the least confidence of a learned outline that may replace a search's (read off the field sample and clean
    # 94003: replacements that helped scored 0.71-0.79, those that hurt 0.32-0.66). Replacing helps photos from
    # another renderer (field sample: whole card 59.5 -> 81.1 %) and costs our own hard tier a few corners
    # (fresh hard 94002: 96.7 -> 90 % within 2 %): the photos we did not make are the ones that count.
    replace_floor: float = 0.7


class CardPipeline:
    def __init__(
        self, stages: Stages, today: Callable[[], date] = date.today, learned: LearnedOutlineUse = LearnedOutlineUse()
    ) -> None:
        self.stages = stages
        self._today = today
        self._learned = learned

    @property
    def name(self) -> str:
        return "hmt"

    def recognize(self, image_bytes: bytes, options: RecognizeOptions) -> CardResult:
        timings: dict[str, float] = {}
        start = time.perf_counter()
        img, factor = decode_scaled(image_bytes)
        timings["decode"] = (time.perf_counter() - start) * 1000.0
        result = self._recognize_decoded(img, options, timings)
        return result if factor == 1 else _in_original_pixels(result, factor)

    def _recognize_decoded(self, img: np.ndarray, options: RecognizeOptions, timings: dict[str, float]) -> CardResult:
        reading = self._find_and_read(img, timings)
        if reading is None:
            raise CardNotFoundError("no residence permit found")

        # The portrait needs nothing the fields need: its face detector runs beside them.
        portrait_job = _BESIDE.submit(self._timed_portrait, reading, options) if reading.side == Side.FRONT else None
        # Glare and fingers are judged against this card's own paper, not a fixed white.
        paper_job = _BESIDE.submit(scoring.paper_color_bgr, reading.card_bgr)
        start = time.perf_counter()
        card_wh = self.stages.reader.card_size_wh
        readings = self.stages.fields.read(reading.side, reading.rows, reading.lines, card_wh, reading.card_bgr)
        timings["fields"] = (time.perf_counter() - start) * 1000.0

        start = time.perf_counter()
        fields = self._score_fields(reading, readings, paper_job.result())
        size_wh = (img.shape[1], img.shape[0])
        card_quad = self._card_quad(reading, size_wh)
        # The card's corners are rounded (r = 3 mm): its square corner may stick ~1.2 mm out of a
        # photo that holds the whole card.
        corner_tolerance = _ROUNDED_CORNER_SHARE * float(np.hypot(*np.subtract(card_quad[2], card_quad[0])))
        completeness = scoring.card_completeness(
            card_quad,
            size_wh,
            [f.quad_xy for f in fields if f.text],
            any(not f.text for f in fields),
            corner_tolerance_px=max(2.0, corner_tolerance),
        )
        timings["score"] = (time.perf_counter() - start) * 1000.0
        # its own time, not the wait: the two ran side by side
        portrait, timings["portrait"] = portrait_job.result() if portrait_job is not None else (None, 0.0)
        face_missing = reading.side == Side.FRONT and (portrait is None or not portrait.face_found)
        # 1001/1002 keeps the vendor's meaning: it judges the vendor's fields, not our additions.
        vendor_fields = [f for f in fields if f.name not in EXTRA_FIELDS]
        code = scoring.result_code(vendor_fields, completeness, face_missing, options)
        return CardResult(
            side=reading.side,
            fields=tuple(fields),
            card_quad_xy=card_quad,
            completeness=completeness,
            result_code=code,
            portrait=portrait,
            timings=tuple(StageTiming(k, round(v, 2)) for k, v in timings.items()),
        )

    # -- finding the card ---------------------------------------------------------------------
    def _find_and_read(self, img: np.ndarray, timings: dict[str, float]) -> CardReading | None:
        """The learned outline's reading when the network is sure of the card and the reading is a permit;
        else the classical searches, whose outline loses to the learned one when the card's mask covers it
        clearly less."""
        learned = self._learned_outline(img, timings)
        if learned is not None and learned.confidence < min(self._learned.trust, self._learned.replace_floor):
            learned = None  # too unsure to be read first or to replace anything
        if learned is not None:
            # the mask's outline is a few pixels soft: the photo's own edges near it set it exactly
            learned = dataclasses.replace(learned, quad_xy=self.stages.locator.refine_quad(img, learned.quad_xy, ()))
        first: CardReading | None = None
        if learned is not None and learned.confidence >= self._learned.trust:
            first = self._read_learned(img, learned.quad_xy, timings)
            if first is not None and self._anchors_allow(first):
                return first
        found = self._classical(img, timings)
        if learned is None or found is None or self.stages.outline is None:
            return found
        size_wh = (img.shape[1], img.shape[0])
        mask_found = self.stages.outline.support(learned.prob, found.quad_xy, size_wh)
        mask_learned = self.stages.outline.support(learned.prob, learned.quad_xy, size_wh)
        # the mask favours the outline fitted to it: only a learned outline the network is fairly sure of may
        # replace a classical one (the template's anchors cannot judge: another printer's print fits a card
        # squeezed to its portrait's edge as well as the card)
        if learned.confidence >= self._learned.replace_floor and mask_found + self._learned.mask_margin < mask_learned:
            first = first or self._read_learned(img, learned.quad_xy, timings)
            if first is not None and first.side == found.side and first.labels_found >= found.labels_found - 1:
                return first
        return found

    def _anchors_allow(self, reading: CardReading) -> bool:
        """The printed anchors read on an outline do not contradict it: too few to judge, or near it (within
        what another printer's placement moves them)."""
        template, _, own = self._anchors(reading)
        return len(template) < _MIN_ANCHORS or own <= _ANCHORS_NEAR

    def _learned_outline(self, img: np.ndarray, timings: dict[str, float]) -> LearnedOutline | None:
        if self.stages.outline is None:
            return None
        start = time.perf_counter()
        learned = self.stages.outline(img)
        timings["outline"] = (time.perf_counter() - start) * 1000.0
        return learned

    def _read_learned(self, img: np.ndarray, quad_xy: QuadXY, timings: dict[str, float]) -> CardReading | None:
        """The learned outline read with the int8 detector, kept when well read; else with the float one."""
        fast = self.stages.fast_reader
        if fast is not None:
            quick = fast(img, quad_xy, timings)
            if quick is not None and quick.labels_found >= WELL_READ:
                return quick
        return self.stages.reader(img, quad_xy, timings)

    def _classical(self, img: np.ndarray, timings: dict[str, float]) -> CardReading | None:
        """The card alone, read with the photo's frame as its outline, when the anchors agree with it; else the
        best reading the outline searches give, or the card alone's when its anchors sit closer to its frame."""
        alone = self._card_alone(img, timings)
        if alone is not None and alone[1] <= _ANCHORS_AGREE:
            return alone[0]
        photo = _Photo(img)
        found = self._search_and_read(photo, timings)
        if alone is None or found is None:
            return alone[0] if alone is not None else found
        frame, frame_offset = alone
        return frame if _frame_wins(frame_offset, self._anchors(found)[2], photo.support(found.quad_xy)) else found

    def _search_and_read(self, photo: _Photo, timings: dict[str, float]) -> CardReading | None:
        """The best reading over the outlines the geometric cue offers, checked against the labels;
        the text-anchored cue when no outline reads well."""
        start = time.perf_counter()
        img = photo.img
        locator = self.stages.locator
        outlines = locator.all_candidates(img)
        candidates = [c for c in outlines if c.score >= locator.min_score][: locator.max_candidates]
        timings["locate"] = (time.perf_counter() - start) * 1000.0
        if self.stages.fast_reader is not None and candidates:
            quick = photo.read(self.stages.fast_reader, candidates[0].quad_xy, timings)
            if quick is not None and self._plainly_right(photo, quick):
                return quick
        best: CardReading | None = None
        for candidate in candidates[:_MAX_QUADS_TRIED]:
            reading = photo.read(self.stages.reader, candidate.quad_xy, timings)
            if reading is None:
                continue
            reading = self._agree_with_labels(photo, reading, outlines, timings, from_text=False)
            best = self._better(photo, best, reading)
            if best.labels_found >= WELL_READ:
                return best
        if best is not None and best.labels_found >= WELL_READ - 1:
            return best
        # No outline carried the permit's labels well: find the labels in the whole photo instead.
        start = time.perf_counter()
        quads = self.stages.anchors(img)
        timings["anchor_locate"] = (time.perf_counter() - start) * 1000.0
        for quad in quads:
            for attempt in (locator.refine_quad(img, quad, outlines), quad):
                reading = photo.read(self.stages.reader, attempt, timings)
                if reading is not None:
                    best = self._better(
                        photo, best, self._agree_with_labels(photo, reading, outlines, timings, from_text=True)
                    )
                    break
        if best is not None:
            return best
        # Nothing read: the outlines the geometric cue thought too weak (a pale card on paper, strong
        # perspective, a card among clutter whose best-scored outline was something else) may still hold the
        # card; the labels judge them as any other. An outline already read is not read again (`_Photo.read`).
        weak = outlines[:_MAX_WEAK_TRIED]
        for candidate in weak:
            reading = photo.read(self.stages.reader, candidate.quad_xy, timings)
            if reading is not None:
                best = self._better(
                    photo, best, self._agree_with_labels(photo, reading, outlines, timings, from_text=False)
                )
        return best

    def _better(self, photo: _Photo, a: CardReading | None, b: CardReading) -> CardReading:
        """The reading with more labels and value patterns read; of two read as well, the one whose outline
        the anchors agree with when the other's they do not (an outline along the portrait's edge reads as
        well as the card's own). One label more or less is pale print read in one warp and not in the other:
        then an outline the edges show clearly more of, with the anchors agreeing, wins."""
        if a is None:
            return b
        if abs(a.labels_found - b.labels_found) == 1:
            for x, y in ((a, b), (b, a)):
                if self._clearly_on_edges(photo, x, y):
                    return x
        if b.labels_found > a.labels_found:
            return b
        if b.labels_found == a.labels_found and self._anchors(b)[2] <= _ANCHORS_AGREE < self._anchors(a)[2]:
            return b
        return a

    def _clearly_on_edges(self, photo: _Photo, x: CardReading, y: CardReading) -> bool:
        """`x` reads the same side as `y`, on an outline the photo's edges show half a side more of, and the
        anchors read on it agree with it: labels `x` lacks faded in its warp."""
        return (
            x.side == y.side
            and photo.support(x.quad_xy) >= photo.support(y.quad_xy) + _SUPPORT_CLEAR
            and self._anchors(x)[2] <= _ANCHORS_AGREE
        )

    def _card_alone(self, img: np.ndarray, timings: dict[str, float]) -> tuple[CardReading, float] | None:
        """The reading of a photo that may be the card alone (cut out by a client app, a scan), with the frame as
        its outline, and its anchors' offset from the frame, when ≥ 3 anchors sit near where the frame puts them.
        Such a photo shows no edge round the card, and the outline searches spend seconds on it, sometimes to end
        on a worse outline. As for any outline, a first reading with the int8 detector is kept only when plainly
        right (well read, the anchors agreeing); else the frame is read again with the float one."""
        frame = frame_outline((img.shape[1], img.shape[0]))
        if frame is None:
            return None
        fast = self.stages.fast_reader
        reading = (fast or self.stages.reader)(img, frame, timings)
        offset = self._offset_of_near_anchors(reading)
        if reading is None or offset is None:
            return None
        if fast is not None and (reading.labels_found < WELL_READ or offset > _ANCHORS_AGREE):
            reading = self.stages.reader(img, frame, timings)
            offset = self._offset_of_near_anchors(reading)
            if reading is None or offset is None:
                return None
        return dataclasses.replace(reading, fills_frame=True), offset

    def _offset_of_near_anchors(self, reading: CardReading | None) -> float | None:
        """The anchors' offset from the reading's outline when enough were read near it; else None."""
        if reading is None:
            return None
        template, _, own = self._anchors(reading)
        return own if len(template) >= _MIN_ANCHORS and own <= _ANCHORS_NEAR else None

    def _plainly_right(self, photo: _Photo, reading: CardReading) -> bool:
        """Well read, with enough anchors close to an outline that runs along an edge on every side: the
        checks below would keep it as it is. Anything less is read again from the start with the float
        detector, whose lines the outline checks were tuned on."""
        if reading.labels_found < WELL_READ:
            return False
        template, _, own = self._anchors(reading)
        return len(template) >= _MIN_ANCHORS and _settled(photo, reading.quad_xy, own)

    def _anchors(self, reading: CardReading) -> tuple[np.ndarray, np.ndarray, float]:
        """The anchors read on the card (template and photo positions) and their mean offset from its
        outline, as a share of the diagonal (infinite with fewer than two: they fix no outline)."""
        card_wh = self.stages.reader.card_size_wh
        template, seen = template_fit.anchors_in_image(reading.rows, reading.side, card_wh, reading.card_to_image)
        if len(template) < 2:
            return template, seen, float("inf")
        return template, seen, template_fit.template_residual(reading.quad_xy, template, seen, card_wh)

    def _agree_with_labels(
        self,
        photo: _Photo,
        reading: CardReading,
        outlines: Sequence[QuadCandidate],
        timings: dict[str, float],
        from_text: bool,
    ) -> CardReading:
        """An outline the printed anchors disagree with (a photo frame, a part of the card, a shadow) is
        replaced by another outline found in the photo that puts them where they were read, or else by
        the outline they imply, snapped to the card's edges. The new reading, with more anchors read, is
        checked once more. An outline drawn from the text (`from_text`), one the anchors still
        disagree with, or one with a side along no edge, is then refitted to the anchors and the edges
        that show."""
        for _ in range(_AGREEMENT_ROUNDS):
            replaced = self._replace_outline(photo, reading, outlines, timings)
            if replaced is None:
                break
            reading = replaced
        return self._uncut_print(photo, self._settle_on_edges(photo, reading, timings, always=from_text), timings)

    def _uncut_print(self, photo: _Photo, reading: CardReading, timings: dict[str, float]) -> CardReading:
        """A front whose print runs into the outline's right or bottom side: the outline stopped at an edge
        inside the card (the portrait's, with the card's own edge faint on pale paper), where the anchors,
        bunched in the label column, cannot tell. Each such side is moved out to the next edge beyond it, and
        the new outline read; print it still cuts (the number, once its row is whole, runs into the right
        side too) moves that side in turn. Taken when it reads as well and no print runs into it."""
        if reading.fills_frame:
            return reading
        widened = reading
        for _ in range(_UNCUT_ROUNDS):
            cut = self._sides_cutting_print(widened)
            if not cut:
                return widened
            quad = geometry.quad_to_array(widened.quad_xy)
            lines = [(quad[i], quad[(i + 1) % 4] - quad[i]) for i in range(4)]
            for side in cut:
                edge = photo.edges.line_beyond(widened.quad_xy, side, _BEYOND_NEAR, _BEYOND_REACH)
                if edge is None:
                    return reading
                lines[side] = (edge.point, edge.direction)
            corners = edge_snap.corners_of(lines, quad)
            if not geometry.is_convex(corners):
                return reading
            again = photo.read(self.stages.reader, geometry.scale_quad(corners, 1.0), timings)
            if again is None or again.labels_found < reading.labels_found:
                return reading
            widened = again
        return widened if not self._sides_cutting_print(widened) else reading

    def _sides_cutting_print(self, reading: CardReading) -> list[int]:
        return print_margins.sides_cutting_print(reading.lines, reading.side, self.stages.reader.card_size_wh)

    def _settle_on_edges(
        self, photo: _Photo, reading: CardReading, timings: dict[str, float], always: bool
    ) -> CardReading:
        card_wh = self.stages.reader.card_size_wh
        template, seen, own = self._anchors(reading)
        if len(template) < 2:
            return reading
        start = time.perf_counter()
        support = photo.support(reading.quad_xy)
        if not always and _settled(photo, reading.quad_xy, own):
            timings["settle"] = timings.get("settle", 0.0) + (time.perf_counter() - start) * 1000.0
            return reading
        settled = anchored_snap.snap_with_anchors(photo.edges, reading.quad_xy, template, seen, card_wh)
        residual = template_fit.template_residual(settled.quad_xy, template, seen, card_wh)
        gain = photo.support(settled.quad_xy) - support
        # Along an edge on every side, and a side and a half more of it seen than of the outline read: the card's
        # own outline, even where its print sits a little off our template.
        bar = _ANCHORS_NEAR if settled.sides_found == 4 and gain >= _SIDES_FEWER else _ANCHORS_SETTLED
        taken = False
        # Two anchors (the ID number's ends) fix no outline by themselves: then every side must show.
        if (len(template) >= _MIN_ANCHORS or settled.sides_found == 4) and residual <= max(own + _ANCHORS_SLACK, bar):
            taken = _edges_prefer(gain, settled.sides_found) or _anchors_prefer(len(template), own, residual, gain)
        timings["settle"] = timings.get("settle", 0.0) + (time.perf_counter() - start) * 1000.0
        if not taken:
            return reading
        again = photo.read(self.stages.reader, settled.quad_xy, timings)
        if again is None:
            return reading
        # Pale labels read in one warp of the card and not in the next: fewer of them read is no reason to keep an
        # outline the edges show clearly less of, when the anchors that were read agree with the settled one.
        faded = self._clearly_on_edges(photo, again, reading)
        return again if again.labels_found >= reading.labels_found - 1 or faded else reading

    def _replace_outline(
        self, photo: _Photo, reading: CardReading, outlines: Sequence[QuadCandidate], timings: dict[str, float]
    ) -> CardReading | None:
        card_wh = self.stages.reader.card_size_wh
        template, seen, own = self._anchors(reading)
        # Two anchors (the ID number's ends, say) fix position, size and turn: enough to pick among the
        # outlines found in the photo, not to draw one from them alone.
        if len(template) < 2:
            return None
        if own <= _ANCHORS_AGREE:
            return None
        # A card printed a little off our template (another printer, another font) still runs along an
        # edge on every side: its outline stays.
        if own <= _ANCHORS_NEAR and photo.support(reading.quad_xy) >= _SETTLED_SUPPORT:
            return None
        residuals = [template_fit.template_residual(c.quad_xy, template, seen, card_wh) for c in outlines]
        if residuals:
            k = int(np.argmin(residuals))
            if residuals[k] <= min(_ANCHORS_CLOSE, 0.6 * own) and self._edges_allow(
                photo, reading, own, outlines[k].quad_xy
            ):
                again = photo.read(self.stages.reader, outlines[k].quad_xy, timings)
                if again is not None and again.labels_found >= reading.labels_found - 1:
                    return again
        if len(template) < _MIN_ANCHORS or len({round(y) for y in template[:, 1]}) < 2:
            return None
        fitted = template_fit.fitted_card_quad(reading.rows, reading.side, card_wh, reading.card_to_image)
        if fitted is None or geometry.corner_error_ratio(reading.quad_xy, fitted) <= _LABELS_DISAGREE:
            return None
        snapped = self._snap(photo, fitted, template, seen, outlines)
        if not self._edges_allow(photo, reading, own, snapped):
            return None
        again = photo.read(self.stages.reader, snapped, timings)
        return again if again is not None and again.labels_found >= reading.labels_found else None

    def _edges_allow(self, photo: _Photo, reading: CardReading, own: float, other: QuadXY) -> bool:
        """Anchors only a little off the outline read (`own`: print a little off our template) do not trade it
        for another outline the photo's edges show much less of: its anchors' better fit is chance."""
        if own > _ANCHORS_NEAR:
            return True
        return photo.support(other) > photo.support(reading.quad_xy) - _SIDES_FEWER

    def _snap(
        self, photo: _Photo, fitted: QuadXY, template: np.ndarray, seen: np.ndarray, outlines: Sequence[QuadCandidate]
    ) -> QuadXY:
        """The fitted outline moved onto the card's edges, by the whole-side search or else by the
        geometric cue's refinement, unless that moves the anchors away from where they were read."""
        card_wh = self.stages.reader.card_size_wh
        limit = template_fit.template_residual(fitted, template, seen, card_wh) + _ANCHORS_SLACK

        def keeps_anchors(quad: QuadXY) -> bool:
            return template_fit.template_residual(quad, template, seen, card_wh) <= limit

        snapped = photo.edges.snap(fitted)
        if snapped.sides_snapped >= 3 and keeps_anchors(snapped.quad_xy):
            return snapped.quad_xy
        # the refinement searches the photo's edges again: only when the whole-side search was not taken
        refined = self.stages.locator.refine_quad(photo.img, fitted, outlines)
        return refined if keeps_anchors(refined) else fitted

    # -- fields and scores --------------------------------------------------------------------
    def _to_image_quad(self, reading: CardReading, box_xyxy: tuple[float, float, float, float] | None) -> QuadXY:
        if box_xyxy is None:
            return ZERO_QUAD
        return geometry.unwarp_quad(reading.card_to_image, geometry.xyxy_to_quad(box_xyxy))

    def _score_fields(
        self, reading: CardReading, readings: Sequence[FieldReading], paper_bgr: scoring.ColorBGR
    ) -> list[FieldResult]:
        logic = self._logic(reading, readings)
        judged = self.judge_fields(reading, readings, paper_bgr, logic)
        model = self.stages.quality
        out = []
        for r in readings:
            quality = 0.0
            if r.name in judged:
                cues, features = judged[r.name]
                quality = (
                    model.quality(r.name, features)
                    if model is not None
                    else scoring.quality_from_cues(r.confidence, cues)
                )
            out.append(
                FieldResult(
                    name=r.name,
                    text=r.text,
                    quality=scoring.round_quality(quality),
                    quad_xy=self._to_image_quad(reading, r.box_xyxy),
                    logic=logic.get(r.name, 0),
                )
            )
        return out

    def _logic(self, reading: CardReading, readings: Sequence[FieldReading]) -> dict[str, int]:
        return rules.check_side_fields(int(reading.side), {r.name: r.text for r in readings}, self._today())

    def judge_fields(
        self,
        reading: CardReading,
        readings: Sequence[FieldReading],
        paper_bgr: scoring.ColorBGR,
        logic: dict[str, int] | None = None,
    ) -> dict[str, tuple[scoring.QualityCues, np.ndarray]]:
        """Each field read: its crop's cues and the quality model's features."""
        logic = self._logic(reading, readings) if logic is None else logic
        out: dict[str, tuple[scoring.QualityCues, np.ndarray]] = {}
        for r in readings:
            if r.text and r.box_xyxy is not None:
                cues = scoring.crop_quality_cues(_crop(reading.card_bgr, r.box_xyxy), paper_bgr=paper_bgr)
                out[r.name] = (cues, field_features(r.name, r.text, r.confidences, cues, logic.get(r.name, 0)))
        return out

    def _card_quad(self, reading: CardReading, size_wh: tuple[int, int]) -> QuadXY:
        """The outline as found, with corners cut off by the photo's edge put back where the labels say."""
        if reading.fills_frame or all(
            _EDGE_MARGIN_PX < x < size_wh[0] - 1 - _EDGE_MARGIN_PX
            and _EDGE_MARGIN_PX < y < size_wh[1] - 1 - _EDGE_MARGIN_PX
            for x, y in reading.quad_xy
        ):
            return reading.quad_xy
        fitted = template_fit.fitted_card_quad(
            reading.rows, reading.side, self.stages.reader.card_size_wh, reading.card_to_image
        )
        if fitted is None:
            return reading.quad_xy
        return template_fit.extend_cut_corners(reading.quad_xy, fitted, size_wh, _EDGE_MARGIN_PX)

    def _timed_portrait(self, reading: CardReading, options: RecognizeOptions) -> tuple[Portrait, float]:
        start = time.perf_counter()
        portrait = self._portrait(reading, options)
        return portrait, (time.perf_counter() - start) * 1000.0

    def _portrait(self, reading: CardReading, options: RecognizeOptions) -> Portrait:
        region = layout.mm_box_to_px(layout.PORTRAIT_MM_XYXY, self.stages.reader.card_size_wh)
        region_xyxy = (region[0], region[1], region[2], region[3])
        crop = self.stages.portrait(reading.card_bgr, region_xyxy, encode_jpeg=options.return_portrait)
        return Portrait(
            quad_xy=self._to_image_quad(reading, tuple(float(v) for v in region_xyxy)),  # type: ignore[arg-type]
            face_found=crop.face_found,
            jpeg=crop.jpeg if options.return_portrait else None,
            face_score=crop.face_score,
        )


def _settled(photo: _Photo, quad_xy: QuadXY, own: float) -> bool:
    """An outline the anchors agree with (`own`, their offset) that runs along an edge on every side: no
    check would change it."""
    return own <= _ANCHORS_AGREE and photo.support(quad_xy) >= _SETTLED_SUPPORT


def _frame_wins(frame_offset: float, found_offset: float, found_support: float) -> bool:
    """The photo's frame over the outline the searches found: their anchors' offsets, and how much of the found
    outline runs along the photo's edges. One along an edge all round (a photo with a margin round the card)
    wins; else the anchors decide."""
    return found_support < _SETTLED_SUPPORT and frame_offset < found_offset


def _edges_prefer(gain: float, sides_found: int) -> bool:
    """The photo's edges speak clearly more (`gain` in support) for the settled outline, or somewhat
    more when all its sides run along an edge found."""
    return gain > _SUPPORT_MARGIN or (sides_found == 4 and gain > _SUPPORT_MARGIN_ALL_SIDES)


def _anchors_prefer(anchors: int, own: float, residual: float, gain: float) -> bool:
    """Many anchors far off the outline (`own`) and close to the settled one (`residual`) outweigh edges
    that show no more of either (`gain`): a faint side, where a stronger edge nearby took the first outline."""
    return (
        anchors >= _MANY_ANCHORS
        and own > _ANCHORS_NEAR
        and residual <= min(_ANCHORS_AGREE, own / 2)
        and gain >= -_SUPPORT_SLACK
    )


class _Photo:
    """The decoded photo and its edge gradients: every outline tried on the photo is judged against the
    same edges. They are computed beside the locator (Python, one core), which the first judgement follows."""

    def __init__(self, img: np.ndarray) -> None:
        self.img = img
        self._supports: dict[QuadXY, float] = {}
        self._readings: dict[tuple[int, QuadXY], CardReading | None] = {}
        self._edges = _BESIDE.submit(edge_snap.Gradients.of, img)

    @property
    def edges(self) -> edge_snap.Gradients:
        return self._edges.result()

    def support(self, quad_xy: QuadXY) -> float:
        """How much of the outline runs along the photo's edges (sides, each up to one); an outline
        judged twice (for replacement, then for settling) is measured once."""
        if quad_xy not in self._supports:
            self._supports[quad_xy] = self.edges.support(geometry.quad_to_array(quad_xy))
        return self._supports[quad_xy]

    def read(self, reader: CardReader, quad_xy: QuadXY, timings: dict[str, float]) -> CardReading | None:
        """The reader's reading of this outline, read once: the searches come back to an outline they read
        before (a candidate, then the one its anchors pick among the candidates), each read ~300 ms."""
        key = (id(reader), quad_xy)
        if key not in self._readings:
            self._readings[key] = reader(self.img, quad_xy, timings)
        return self._readings[key]


def _in_original_pixels(result: CardResult, factor: int) -> CardResult:
    """A result read on a photo decoded `factor` times smaller, its coordinates in the original's pixels."""

    def up(quad: QuadXY) -> QuadXY:
        return geometry.scale_quad(quad, float(factor)) if quad != ZERO_QUAD else quad

    portrait = result.portrait
    return dataclasses.replace(
        result,
        card_quad_xy=up(result.card_quad_xy),
        fields=tuple(dataclasses.replace(f, quad_xy=up(f.quad_xy)) for f in result.fields),
        portrait=None if portrait is None else dataclasses.replace(portrait, quad_xy=up(portrait.quad_xy)),
    )


def _crop(card_bgr: np.ndarray, box_xyxy: tuple[float, float, float, float]) -> np.ndarray:
    h, w = card_bgr.shape[:2]
    x0, y0, x1, y1 = (round(v) for v in box_xyxy)
    x0, x1 = max(0, x0), min(w, max(x1, x0 + 1))
    y0, y1 = max(0, y0), min(h, max(y1, y0 + 1))
    return card_bgr[y0:y1, x0:x1]


def build_kit(config: EngineConfig) -> OcrKit:
    """The shared text models for this configuration (the detectors on the device the recogniser got)."""
    from engine.ocr.cls import TextAngleClassifier
    from engine.ocr.det import TextDetector
    from engine.ocr.lanes import Lanes
    from engine.ocr.rec import CPU_WIDTH_BUCKET_PX, GPU_WIDTH_BUCKET_PX, TextRecognizer
    from engine.onnx_session import active_provider, detector_model, line_model_threading, shared_session
    from engine.read.normalize import normalize_text

    line_config, lane_count = line_model_threading(config)
    rec_session = shared_session("text_rec", line_config)
    on_gpu = active_provider(rec_session) != "CPUExecutionProvider"
    lanes = Lanes(1 if on_gpu else lane_count)
    fast = detector_model(config, on_gpu)
    return OcrKit(
        detector=TextDetector(shared_session("text_det", config)),
        fast_detector=None if fast == "text_det" else TextDetector(shared_session(fast, config)),
        recognizer=TextRecognizer(rec_session, GPU_WIDTH_BUCKET_PX if on_gpu else CPU_WIDTH_BUCKET_PX, lanes),
        classifier=TextAngleClassifier(shared_session("text_cls", line_config), lanes),
        normalize=normalize_text,
    )


def pipeline_with_kit(kit: OcrKit, config: EngineConfig) -> CardPipeline:
    from engine.onnx_session import shared_session
    from models.registry import load_manifest, resolve_model_path

    stages = Stages(
        locator=CardLocator(),
        anchors=AnchorLocator(kit, config.find_max_side_px),
        reader=CardReader(kit, config.card_width_px),
        fast_reader=(
            None
            if kit.fast_detector is None
            else CardReader(kit, config.card_width_px, kit.fast_detector, QUICK_ORIENT_LINES)
        ),
        fields=FieldReader(kit.recognizer, kit.normalize),
        portrait=PortraitStage(),
        outline=OutlineModel(shared_session("card_outline", config)) if "card_outline" in load_manifest() else None,
        quality=QualityModel.load(resolve_model_path("field_quality")) if "field_quality" in load_manifest() else None,
    )
    return CardPipeline(stages)


def build_pipeline(config: EngineConfig) -> CardPipeline:
    from engine.onnx_session import active_providers

    pipeline = pipeline_with_kit(build_kit(config), config)
    logger.info(
        "hmt engine ready: device %s requested; %s",
        config.device,
        ", ".join(f"{name} on {provider}" for name, provider in active_providers().items()),
    )
    return pipeline
