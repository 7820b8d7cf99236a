"""The outline that reads the card is checked against where the printed anchors were read: a wrong
outline that happens to hold all the text (a frame around the card) loses to the card's own."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pytest

from benchmarks.synth import generate_sample
from benchmarks.synth.writer import sample_seed
from engine import geometry
from engine.card_locate import CardLocator, QuadCandidate
from engine.card_reader import CardReader, CardReading
from engine.pipeline import CardPipeline
from engine.types import QuadXY, RecognizeOptions

SEEDS = (72_000, 72_001, 72_002, 72_003)


class _FrameFirst:
    """The real locator's interface, offering a frame 14 % larger than the card above the card itself."""

    def __init__(self, inner: CardLocator, truth: QuadXY) -> None:
        self._inner = inner
        self._truth = truth
        self.min_score = inner.min_score
        self.max_candidates = inner.max_candidates

    def all_candidates(self, img_bgr: np.ndarray) -> Sequence[QuadCandidate]:
        q = geometry.quad_to_array(self._truth)
        frame = (q - q.mean(axis=0)) * 1.14 + q.mean(axis=0) + np.array([25.0, -10.0])
        return (
            QuadCandidate(geometry.scale_quad(frame, 1.0), 0.9, "frame"),
            QuadCandidate(self._truth, 0.6, "card"),
        )

    def refine_quad(
        self, img_bgr: np.ndarray, quad_xy: QuadXY, candidates: Sequence[QuadCandidate] | None = None
    ) -> QuadXY:
        return self._inner.refine_quad(img_bgr, quad_xy, candidates)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_frame_around_the_card_loses_to_the_card(pipeline: CardPipeline, seed: int) -> None:
    sample = generate_sample(seed, "photo")
    truth = tuple(tuple(p) for p in sample.truth["card_quad_xy"])
    stages = dataclasses.replace(pipeline.stages, locator=_FrameFirst(pipeline.stages.locator, truth))  # type: ignore[arg-type]
    result = CardPipeline(stages).recognize(sample.image_bytes, RecognizeOptions())
    assert int(result.side) == sample.truth["side"]
    assert geometry.corner_error_ratio(result.card_quad_xy, sample.truth["card_quad_xy"]) <= 0.01


def test_an_outline_along_every_edge_stays_when_the_print_is_a_little_off_the_template(
    pipeline: CardPipeline,
) -> None:
    """Sample 82 of mixed seed 6001: its print sits ~2 mm off our template (another font), so the
    anchors put the card 7 % wider than it is, past the photo's right edge; the outline found runs along
    the card's edge on all four sides and is the card."""
    sample = generate_sample(16_710_000_242_412, "mixed")
    result = pipeline.recognize(sample.image_bytes, RecognizeOptions())
    assert geometry.corner_error_ratio(result.card_quad_xy, sample.truth["card_quad_xy"]) <= 0.01


def test_an_outline_turned_against_the_card_is_turned_back_by_its_lines_own_tilt(pipeline: CardPipeline) -> None:
    """Sample 99 of hard seed 6000: a faint back whose first outline is turned ~10 degrees off the card;
    the anchors, taken at each character's own height on the tilted lines, refit it."""
    sample = generate_sample(181_776_109_174_457, "hard")
    result = pipeline.recognize(sample.image_bytes, RecognizeOptions())
    assert int(result.side) == sample.truth["side"]
    assert geometry.corner_error_ratio(result.card_quad_xy, sample.truth["card_quad_xy"]) <= 0.015


def test_many_anchors_outweigh_edges_that_show_no_more_of_either_outline(pipeline: CardPipeline) -> None:
    """Sample 181 of hard seed 6000: the card's edge against a white sheet of paper is faint, and the
    sheet's own edge nearby took the first outline (5 % off); nine anchors put the card 0.5 % off the
    refitted outline and 3 % off the first, while the edges show as much of both."""
    sample = generate_sample(171_928_681_550_682, "hard")
    result = pipeline.recognize(sample.image_bytes, RecognizeOptions())
    assert int(result.side) == sample.truth["side"]
    assert geometry.corner_error_ratio(result.card_quad_xy, sample.truth["card_quad_xy"]) <= 0.015


class _CountingReader:
    """A card reader that counts how often each outline is read."""

    def __init__(self, inner: CardReader) -> None:
        self._inner = inner
        self.card_size_wh = inner.card_size_wh
        self.reads: Counter[QuadXY] = Counter()

    def __call__(self, img_bgr: np.ndarray, quad_xy: QuadXY, timings: dict[str, float]) -> CardReading | None:
        self.reads[quad_xy] += 1
        return self._inner(img_bgr, quad_xy, timings)


def test_an_outline_the_searches_come_back_to_is_read_once(pipeline: CardPipeline) -> None:
    """Sample 7 of hard seed 6000: its first outline is read, then picked again by its anchors among the
    outlines found; each reading costs ~300 ms, and a second one of the same outline gives the same."""
    sample = generate_sample(sample_seed(6000, 7), "hard")
    reader = _CountingReader(pipeline.stages.reader)
    stages = dataclasses.replace(pipeline.stages, reader=reader)  # type: ignore[arg-type]
    result = CardPipeline(stages).recognize(sample.image_bytes, RecognizeOptions())
    assert int(result.side) == sample.truth["side"]
    assert len(reader.reads) >= 2, "the searches should try more than one outline on this photo"
    assert max(reader.reads.values()) == 1


def test_of_two_outlines_read_as_well_the_one_the_anchors_agree_with_is_taken(pipeline: CardPipeline) -> None:
    """Sample 88 of hard seed 6200, a pale card on paper: the text-anchored cue's first fit is taken onto an
    outline along the portrait's top edge (19 % off), its second onto the card's own; both read seven labels
    and values, and only the second puts the anchors where they were read."""
    sample = generate_sample(sample_seed(6200, 88), "hard")
    result = pipeline.recognize(sample.image_bytes, RecognizeOptions())
    assert geometry.corner_error_ratio(result.card_quad_xy, sample.truth["card_quad_xy"]) <= 0.02


@pytest.mark.parametrize(
    ("index", "field"),
    [
        # its pale labels lost and glare turning the ID number's 8 into a 3: the check character confirms
        # the 8, so the card is taken, read and outlined (it was not found before)
        pytest.param(157, "idcard_number", id="labels-faded-number-start-under-glare"),
        # a back among clutter under glare: the best-scored outline is something else and reads as no
        # permit, the text-anchored fit reads nothing either; the card's own outline, scored below the
        # geometric cue's bar, is read and set right by its anchors (it was not found before)
        pytest.param(120, "eep_number", id="among-clutter-outline-below-the-bar"),
        # a pale card on pale paper: the text-anchored fit stops at the portrait's edge and above the ID
        # number's row, which runs into the outline, and the labels, all down one column, agree with it;
        # the sides the print runs into are moved out to the next edge, onto the card's own
        pytest.param(181, "idcard_number", id="print-runs-into-the-outline"),
    ],
)
def test_hard_cards_once_lost_are_found_read_and_outlined(pipeline: CardPipeline, index: int, field: str) -> None:
    """Samples of hard seed 6200 that were not found, or outlined 16 % off, before."""
    sample = generate_sample(sample_seed(6200, index), "hard")
    result = pipeline.recognize(sample.image_bytes, RecognizeOptions())
    assert int(result.side) == sample.truth["side"]
    read = {f.name: f.text for f in result.fields}
    assert read[field] == sample.truth["fields"][field]
    assert geometry.corner_error_ratio(result.card_quad_xy, sample.truth["card_quad_xy"]) <= 0.02


def test_anchors_a_little_off_keep_an_outline_the_edges_show_far_more_of(pipeline: CardPipeline) -> None:
    """Sample 55 of photo seed 2052, a small photo of a turned card: the anchors sit 1.6 % off the card's own
    outline, which the edges show over three sides of; an outline they show one side of, which the anchors happen to
    fit better, had been taken (11 % off) and the name read wrong."""
    sample = generate_sample(sample_seed(2052, 55), "photo")
    result = pipeline.recognize(sample.image_bytes, RecognizeOptions())
    read = {f.name: f.text for f in result.fields}
    assert read["name"] == sample.truth["fields"]["name"]
    assert geometry.corner_error_ratio(result.card_quad_xy, sample.truth["card_quad_xy"]) <= 0.02


def test_a_settled_outline_along_the_edges_stays_when_pale_labels_fade_in_its_reading(pipeline: CardPipeline) -> None:
    """Sample 85 of hard seed 2050, a pale card on pale paper under glare: the text-anchored fit runs 7 % past
    the card's right edge; refitted to the edges, the outline is the card's own, but two of its pale labels no
    longer read there (性别 as 性制, 出生 as 面生) and it had been given up."""
    sample = generate_sample(sample_seed(2050, 85), "hard")
    result = pipeline.recognize(sample.image_bytes, RecognizeOptions())
    read = {f.name: f.text for f in result.fields}
    assert read["name"] == sample.truth["fields"]["name"]
    assert read["idcard_number"] == sample.truth["fields"]["idcard_number"]
    assert geometry.corner_error_ratio(result.card_quad_xy, sample.truth["card_quad_xy"]) <= 0.02


def test_a_back_cut_in_half_by_the_photo_is_outlined_from_its_titles_runs(pipeline: CardPipeline) -> None:
    """Sample 235 of mixed seed 2051, the back's right half and bottom out of the photo (cut2): its corners
    out of the photo are placed by the labels and the runs of the titles read (11 % off before, 2.2 % now: the
    labels and titles carry a millimetre of printing jitter, and half the card's outline rests on them)."""
    sample = generate_sample(sample_seed(2051, 235), "mixed")
    result = pipeline.recognize(sample.image_bytes, RecognizeOptions())
    assert int(result.side) == sample.truth["side"]
    assert geometry.corner_error_ratio(result.card_quad_xy, sample.truth["card_quad_xy"]) <= 0.03
    read = {f.name: f.text for f in result.fields}
    assert read["issued_by"] == sample.truth["fields"]["issued_by"]


def test_of_two_readings_one_label_apart_the_outline_along_the_edges_wins(pipeline: CardPipeline) -> None:
    """Sample 37 of hard seed 6200, a faint back among clutter: the card's own outline, settled on its edges
    (0.7 % off), reads three labels; the titles' runs place an outline 12 % off that reads four. Pale labels
    come and go between two warps of the same card; the edges show over half a side more of the first."""
    sample = generate_sample(sample_seed(6200, 37), "hard")
    result = pipeline.recognize(sample.image_bytes, RecognizeOptions())
    assert int(result.side) == sample.truth["side"]
    assert geometry.corner_error_ratio(result.card_quad_xy, sample.truth["card_quad_xy"]) <= 0.02
