"""Render the flat card (ISO ID-1, 85.6 x 54 mm) of either side at a given resolution.

Positions follow the real card in millimetres, each jittered per sample, fonts and sizes varied.
The renderer returns the ink boxes of every field (and of other content) in card millimetres, so
the photo stage can map them into the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from benchmarks.synth import assets
from benchmarks.synth.data import Identity

BoxMM = tuple[float, float, float, float]  # x0, y0, x1, y1 in card millimetres

LABEL_RGB = (40, 110, 170)
VALUE_RGB = (22, 22, 26)
CORNER_R_MM = 3.0


@dataclass(frozen=True, slots=True)
class FlatCard:
    rgb: np.ndarray  # H x W x 3 uint8
    alpha: np.ndarray  # H x W uint8, 0 outside the rounded corners
    px_per_mm: float
    side: int
    field_boxes_mm: dict[str, BoxMM]  # wire field name -> ink box of its value
    content_boxes_mm: dict[str, BoxMM]  # labels, portrait, emblem, titles: what must stay in frame
    fonts: dict[str, str]  # role -> font name, for the truth


class _Pen:
    """Draws text in millimetre coordinates and records ink boxes."""

    def __init__(self, img: Image.Image, px_per_mm: float) -> None:
        self.draw = ImageDraw.Draw(img)
        self.s = px_per_mm

    def font(self, spec: assets.FontSpec, height_mm: float) -> ImageFont.FreeTypeFont:
        # the CJK ideograph box is ~0.9 em; ask for the em size that gives `height_mm` ink height
        return assets.font(spec, round(height_mm * self.s / 0.9))

    def text(self, text: str, x_mm: float, cy_mm: float, fnt: ImageFont.FreeTypeFont,
             fill: tuple[int, int, int], spacing_mm: float = 0.0) -> BoxMM:
        """Left edge at x_mm, vertical centre of a CJK ideograph at cy_mm. Returns the ink box."""
        s = self.s
        ref = fnt.getbbox("国", anchor="ls")  # ideograph box relative to the baseline
        baseline = cy_mm * s - (ref[1] + ref[3]) / 2
        x = x_mm * s
        x0 = y0 = float("inf")
        x1 = y1 = float("-inf")
        pieces = [text] if spacing_mm == 0.0 else list(text)
        for piece in pieces:
            bb = self.draw.textbbox((x, baseline), piece, font=fnt, anchor="ls")
            self.draw.text((x, baseline), piece, font=fnt, fill=fill, anchor="ls")
            x0, y0, x1, y1 = min(x0, bb[0]), min(y0, bb[1]), max(x1, bb[2]), max(y1, bb[3])
            x += fnt.getlength(piece) + spacing_mm * s
        return (x0 / s, y0 / s, x1 / s, y1 / s)

    def spread(self, text: str, x0_mm: float, x1_mm: float, cy_mm: float, fnt: ImageFont.FreeTypeFont,
               fill: tuple[int, int, int]) -> BoxMM:
        """Letter-space `text` so that it spans x0..x1."""
        width = sum(fnt.getlength(c) for c in text) / self.s
        gap = (x1_mm - x0_mm - width) / max(1, len(text) - 1)
        return self.text(text, x0_mm, cy_mm, fnt, fill, spacing_mm=max(0.0, gap))


def union(*boxes: BoxMM) -> BoxMM:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _jit(rng: np.random.Generator, amount: float = 0.6) -> float:
    return float(rng.uniform(-amount, amount))


def _color(rng: np.random.Generator, base: tuple[int, int, int], amount: int = 12) -> tuple[int, int, int]:
    return tuple(int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in base)  # type: ignore[return-value]


def wrap_address(address: str, fnt: ImageFont.FreeTypeFont, width_px: float, max_lines: int = 3) -> list[str]:
    """Greedy wrap by printed width (the card breaks anywhere, digits included)."""
    lines: list[str] = []
    cur = ""
    for ch in address:
        if cur and fnt.getlength(cur + ch) > width_px:
            lines.append(cur)
            cur = ""
        cur += ch
    if cur:
        lines.append(cur)
    return lines if len(lines) <= max_lines else []


def _base(rng: np.random.Generator, side: int, s: float) -> tuple[np.ndarray, np.ndarray]:
    variant = int(rng.integers(0, assets.N_GUILLOCHE_VARIANTS))
    rgb = assets.guilloche_at(side, variant, s).copy()
    h, w = rgb.shape[:2]
    alpha = np.zeros((h, w), np.uint8)
    r = round(CORNER_R_MM * s)
    cv2.rectangle(alpha, (r, 0), (w - 1 - r, h - 1), 255, -1)
    cv2.rectangle(alpha, (0, r), (w - 1, h - 1 - r), 255, -1)
    for cx, cy in ((r, r), (w - 1 - r, r), (r, h - 1 - r), (w - 1 - r, h - 1 - r)):
        cv2.circle(alpha, (cx, cy), r, 255, -1, cv2.LINE_AA)
    return rgb, alpha


def _portrait(rng: np.random.Generator, w: int, h: int, face_present: bool, wild: bool = False) -> np.ndarray:
    """Head-and-shoulders photo on a light background, w x h pixels (RGB); `wild`: the face 25-60 % of the
    width, on backdrops from white to saturated blue or red, placed less centrally."""
    bg = np.array([238, 240, 242], np.float32) + rng.uniform(-10, 8, 3).astype(np.float32)
    if wild and rng.random() < 0.5:
        bg = np.array(rng.choice([[60, 120, 200], [200, 40, 40], [235, 235, 235], [150, 170, 190]]), np.float32)
        bg = bg + rng.uniform(-20, 20, 3).astype(np.float32)
    canvas = np.empty((h, w, 3), np.float32)
    canvas[:] = bg
    if not face_present:
        if rng.random() < 0.5:  # a patterned, empty area
            yy, xx = np.mgrid[0:h, 0:w]
            canvas -= (10 * (np.sin(xx * 0.15 + yy * 0.07) > 0.6))[..., None]
        return canvas.clip(0, 255).astype(np.uint8)
    sources = assets.face_sources()
    src = sources[int(rng.integers(len(sources)))]
    fx, fy, fw, _ = src.face_xywh
    # face width 50..62 % of the portrait width (wild: 25..60 %), face top 17..26 % from the top
    scale = w * (rng.uniform(0.25, 0.60) if wild else rng.uniform(0.50, 0.62)) / fw
    rgb = cv2.resize(src.rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR).astype(np.float32)
    mask = cv2.resize(src.mask, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    # tint: printed photos are a little flat and warm or cool
    gain = rng.uniform(0.85, 1.08, 3).astype(np.float32)
    rgb = (rgb * gain * rng.uniform(0.85, 1.0) + rng.uniform(8, 30)).clip(0, 255)
    if rng.random() < 0.2:
        gray = rgb.mean(axis=2, keepdims=True)
        rgb = 0.5 * rgb + 0.5 * gray
    ox = round(w / 2 - (fx + fw / 2) * scale + rng.uniform(-0.04, 0.04) * w)
    oy = round(h * rng.uniform(0.17, 0.26) - fy * scale)
    # paste with clipping
    sx0, sy0 = max(0, -ox), max(0, -oy)
    dx0, dy0 = max(0, ox), max(0, oy)
    cw = min(rgb.shape[1] - sx0, w - dx0)
    chh = min(rgb.shape[0] - sy0, h - dy0)
    if cw > 0 and chh > 0:
        m = mask[sy0:sy0 + chh, sx0:sx0 + cw, None]
        region = canvas[dy0:dy0 + chh, dx0:dx0 + cw]
        canvas[dy0:dy0 + chh, dx0:dx0 + cw] = rgb[sy0:sy0 + chh, sx0:sx0 + cw] * m + region * (1 - m)
    return canvas.clip(0, 255).astype(np.uint8)


def _emblem(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float) -> None:
    """A stylised red and gold emblem (drawn, not copied): disc, ring, stars, gate, wheel."""
    red, gold = (200, 32, 36), (246, 200, 70)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=red)
    line_w = max(1, round(r * 0.05))
    draw.ellipse((cx - r * 0.93, cy - r * 0.93, cx + r * 0.93, cy + r * 0.93), outline=gold, width=line_w)
    for k in range(28):  # wheat-ear ring of small ovals
        a = np.pi * (0.15 + 1.7 * k / 27) + np.pi / 2
        px, py = cx + r * 0.8 * np.cos(a), cy + r * 0.8 * np.sin(a)
        e = r * 0.07
        draw.ellipse((px - e, py - e * 1.4, px + e, py + e * 1.4), fill=gold)

    def star(sx: float, sy: float, sr: float, rot: float = -np.pi / 2) -> None:
        pts = []
        for i in range(10):
            rr = sr if i % 2 == 0 else sr * 0.4
            a = rot + i * np.pi / 5
            pts.append((sx + rr * np.cos(a), sy + rr * np.sin(a)))
        draw.polygon(pts, fill=gold)

    star(cx, cy - r * 0.42, r * 0.2)
    for k, ang in enumerate((-60, -30, 30, 60)):
        a = np.deg2rad(ang - 90)
        star(cx + r * 0.5 * np.cos(a) * (1.05 if k in (0, 3) else 1.0), cy - r * 0.2 + r * 0.4 * np.sin(a) + r * 0.1,
             r * 0.08)
    # gate: base, roof and five openings
    gx0, gx1, gy0, gy1 = cx - r * 0.42, cx + r * 0.42, cy - r * 0.02, cy + r * 0.3
    draw.rectangle((gx0, gy0, gx1, gy1), fill=gold)
    draw.polygon([(gx0 - r * 0.08, gy0), (cx, gy0 - r * 0.14), (gx1 + r * 0.08, gy0)], fill=gold)
    for i in range(5):
        ox = gx0 + (i + 0.5) * (gx1 - gx0) / 5
        draw.rectangle((ox - r * 0.03, gy0 + r * 0.12, ox + r * 0.03, gy1), fill=red)
    draw.ellipse((cx - r * 0.12, cy + r * 0.5, cx + r * 0.12, cy + r * 0.74), outline=gold, width=line_w)
    draw.rectangle((cx - r * 0.5, cy + r * 0.38, cx + r * 0.5, cy + r * 0.44), fill=gold)


def render_card(identity: Identity, side: int, rng: np.random.Generator, px_per_mm: float,
                *, face_present: bool = True, wild: bool = False) -> FlatCard:
    """Both sides share the pipeline: pale guilloche base, labels in blue-grey, values in black.

    `wild` draws from ranges wider than any the engine is tuned on: every font family for every role, label
    and value sizes, pale labels, each printed block moved up to 2 mm on its own, the row pitch, the address
    wrapped at 9 to 13 glyphs up to the portrait's edge, the portrait's place and its face's size."""
    s = float(px_per_mm)
    base_rgb, alpha = _base(rng, side, s)
    if wild:  # card tints beyond our guilloche's
        base_rgb = np.clip(base_rgb.astype(np.float32) * rng.uniform(0.9, 1.04, 3) + rng.uniform(-8, 6), 0, 255)
        base_rgb = np.ascontiguousarray(base_rgb.astype(np.uint8))
    img = Image.fromarray(base_rgb)
    pen = _Pen(img, s)
    every_face = [spec for spec, _ in assets.VALUE_FONTS] + list(assets.TITLE_FONTS)
    label_specs = every_face if wild else list(assets.LABEL_FONTS)
    label_spec = label_specs[int(rng.integers(len(label_specs)))]
    value_spec = (
        assets.VALUE_FONTS[int(rng.integers(len(assets.VALUE_FONTS)))][0] if wild else assets.pick_value_font(rng)
    )
    label_h = rng.uniform(1.7, 3.0) if wild else 2.4 * rng.uniform(0.92, 1.08)
    value_h = rng.uniform(2.6, 3.7) if wild else 3.1 * rng.uniform(0.92, 1.06)
    lf = pen.font(label_spec, label_h)
    vf = pen.font(value_spec, value_h)
    label_c = _color(rng, LABEL_RGB)
    if wild:  # pale labels, as another printer's (up to 55 % of the way to the paper)
        fade = rng.uniform(0.0, 0.55)
        label_c = tuple(int(c * (1 - fade) + 235 * fade) for c in label_c)  # type: ignore[assignment]
    value_c = _color(rng, VALUE_RGB, 8)
    label_gap = float(rng.uniform(0.0, 0.9))  # labels like "姓 名" are often letter-spaced

    def block() -> float:  # each printed block's own registration, in wild cards
        return _jit(rng, 2.0) if wild else 0.0

    fields: dict[str, BoxMM] = {}
    content: dict[str, BoxMM] = {}
    fonts = {"label": label_spec.name, "value": value_spec.name}
    dx, dy = _jit(rng, 0.8), _jit(rng, 0.8)  # whole-layout shift (printing registration)

    if side == 0:
        lx = 6.0 + dx + block() / 2
        vx = 16.0 + dx + _jit(rng, 0.4) + block() / 2
        pitch = rng.uniform(5.6, 7.0) if wild else 6.5
        rows = {"name": 9.8, "gender": 9.8 + pitch, "birth": 9.8 + 2 * pitch, "address": 9.8 + 3 * pitch}
        rows = {k: v + dy + _jit(rng, 0.3) + block() / 3 for k, v in rows.items()}
        for key, label in (("name", "姓名"), ("gender", "性别"), ("birth", "出生"), ("address", "住址")):
            content[f"label_{key}"] = pen.text(label, lx, rows[key], lf, label_c, label_gap)
        name_f = pen.font(value_spec, value_h * rng.uniform(1.0, 1.08))
        fields["name"] = pen.text(identity.name, vx, rows["name"], name_f, value_c, _jit(rng, 0.1) + 0.1)
        fields["gender"] = pen.text(identity.gender, vx, rows["gender"], vf, value_c)
        y = rows["birth"]
        ff = identity.front_fields()
        fields["birth_year"] = pen.text(ff["birth_year"], vx, y, vf, value_c)
        content["label_year"] = pen.text("年", 25.0 + dx, y, lf, label_c)
        fields["birth_month"] = pen.text(ff["birth_month"], 29.5 + dx + (0.0 if len(ff["birth_month"]) == 2 else 0.5),
                                         y, vf, value_c)
        content["label_month"] = pen.text("月", 33.2 + dx + (0.3 if len(ff["birth_month"]) == 2 else 0.0),
                                          y, lf, label_c)
        fields["birth_day"] = pen.text(ff["birth_day"], 37.0 + dx + (0.0 if len(ff["birth_day"]) == 2 else 0.5),
                                       y, vf, value_c)
        content["label_day"] = pen.text("日", 41.0 + dx + (0.3 if len(ff["birth_day"]) == 2 else 0.0), y, lf, label_c)
        addr_f, addr_h = vf, value_h
        wrap_px = (50.0 - 16.0 + _jit(rng, 1.0)) * s
        if wild:  # 9 to 13 glyphs a line, never past the portrait's left edge
            wrap_px = min(float(rng.uniform(9, 13.5)) * addr_f.getlength("国"), (53.5 - vx) * s)
        lines = wrap_address(identity.address, addr_f, wrap_px)
        while not lines:  # too long for three lines: a smaller font, as the printer would do
            addr_h *= 0.93
            addr_f = pen.font(value_spec, addr_h)
            lines = wrap_address(identity.address, addr_f, 34.5 * s)
        line_gap = (rng.uniform(3.9, 5.0) if wild else 4.5 * rng.uniform(0.96, 1.04))
        boxes = [pen.text(line, vx, rows["address"] + i * line_gap, addr_f, value_c) for i, line in enumerate(lines)]
        fields["address"] = union(*boxes)
        id_y = 47.0 + dy + _jit(rng, 0.3) + (float(rng.uniform(-1.5, 2.0)) if wild else 0.0)
        if wild:  # below the address's last line, on the card
            id_y = min(max(id_y, fields["address"][3] + 2.5), 51.0)
        content["label_idcard_number"] = pen.text("公民身份号码", lx, id_y, lf, label_c, label_gap * 0.3)
        digit_specs = list(assets.DIGIT_FONTS) + ([spec for spec, _ in assets.VALUE_FONTS] if wild else [])
        digit_spec = digit_specs[int(rng.integers(len(digit_specs)))]
        fonts["digits"] = digit_spec.name
        fields["idcard_number"] = _digits(pen, identity.idcard_number, 29.0 + dx + _jit(rng, 0.5),
                                          76.0 + dx + _jit(rng, 0.8), id_y, 3.3 * rng.uniform(0.93, 1.05), digit_spec,
                                          value_c)
        # portrait
        px0, py0, px1, py1 = 55.0 + dx + _jit(rng, 0.5), 7.0 + dy + _jit(rng, 0.5), 80.0 + dx, 38.0 + dy
        if wild:
            px0, py0 = px0 + block() / 2, py0 + block() / 2
            px1, py1 = min(82.5, px0 + rng.uniform(22, 27)), min(42.0, py0 + rng.uniform(28, 33))
        pw, ph = round((px1 - px0) * s), round((py1 - py0) * s)
        portrait = _portrait(rng, pw, ph, face_present, wild)
        region = np.asarray(img)[round(py0 * s):round(py0 * s) + ph, round(px0 * s):round(px0 * s) + pw]
        blend = (0.9 * portrait.astype(np.float32) + 0.1 * region.astype(np.float32) * portrait / 255.0)
        img.paste(Image.fromarray(blend.clip(0, 255).astype(np.uint8)), (round(px0 * s), round(py0 * s)))
        content["portrait"] = (px0, py0, px0 + pw / s, py0 + ph / s)
    else:
        _emblem(pen.draw, (14.0 + dx + _jit(rng, 0.4)) * s, (13.0 + dy + _jit(rng, 0.4)) * s, 8.0 * s)
        content["emblem"] = (14.0 + dx - 8, 13.0 + dy - 8, 14.0 + dx + 8, 13.0 + dy + 8)
        title_specs = every_face if wild else list(assets.TITLE_FONTS)
        title_spec = title_specs[int(rng.integers(len(title_specs)))]
        fonts["title"] = title_spec.name
        content["title1"] = pen.spread("中华人民共和国", 30.0 + dx + _jit(rng), 72.0 + dx + _jit(rng), 10.0 + dy,
                                       pen.font(title_spec, 3.6 * rng.uniform(0.93, 1.07)), _color(rng, (20, 20, 20)))
        content["title2"] = pen.spread("港澳台居民居住证", 26.0 + dx + _jit(rng), 80.0 + dx + _jit(rng), 20.0 + dy,
                                       pen.font(title_spec, 5.2 * rng.uniform(0.93, 1.05)), _color(rng, (20, 20, 20)))
        lx = 13.0 + dx + block() / 2
        vx = 28.5 + dx + _jit(rng, 1.0) + block() / 2
        bf = identity.back_fields()
        back_dy = block()
        pitch_b = rng.uniform(4.4, 5.6) if wild else 5.0
        y1, y2 = 37.0 + dy + _jit(rng, 0.3) + back_dy, 37.0 + pitch_b + dy + _jit(rng, 0.3) + back_dy
        content["label_issued_by"] = pen.text("签发机关", lx, y1, lf, label_c, label_gap * 0.5)
        fields["issued_by"] = pen.text(identity.issued_by, vx, y1, vf, value_c)
        content["label_valid"] = pen.text("有效期限", lx, y2, lf, label_c, label_gap * 0.5)
        vbox = pen.text(identity.valid_text, vx, y2, vf, value_c)
        # split the printed "YYYY.MM.DD-YYYY.MM.DD" box into its two dates by advance widths
        s_w = vf.getlength(identity.valid_text[:10]) / s
        fields["valid_date_start"] = (vbox[0], vbox[1], vbox[0] + s_w, vbox[3])
        fields["valid_date_end"] = (vbox[0] + vf.getlength(identity.valid_text[:11]) / s, vbox[1], vbox[2], vbox[3])
        y3 = 37.0 + 2 * pitch_b + dy + _jit(rng, 0.3) + back_dy
        content["label_eep"] = pen.text("通行证号码", lx, y3, lf, label_c, label_gap * 0.3)
        fields["eep_number"] = pen.text(bf["eep_number"], max(vx, 30.0 + dx), y3, vf, value_c)
        if rng.random() < 0.5:  # (a) both on one line
            content["label_issue_count"] = pen.text("签发次数", 55.0 + dx, y3, lf, label_c, label_gap * 0.3)
            fields["issue_count"] = pen.text(bf["issue_count"], 68.0 + dx, y3, vf, value_c)
            fonts["layout"] = "one-line"
        else:  # (b) two lines
            y4 = min(52.0, y3 + rng.uniform(4.0, 5.0)) if wild else 51.5 + dy * 0.3 + _jit(rng, 0.2)
            content["label_issue_count"] = pen.text("签发次数", lx, y4, lf, label_c, label_gap * 0.5)
            fields["issue_count"] = pen.text(bf["issue_count"], vx, y4, vf, value_c)
            fonts["layout"] = "two-lines"
    content.update({f"field_{k}": v for k, v in fields.items()})
    return FlatCard(rgb=np.asarray(img), alpha=alpha, px_per_mm=s, side=side, field_boxes_mm=fields,
                    content_boxes_mm=content, fonts=fonts)


def _digits(pen: _Pen, text: str, x0: float, x1: float, cy: float, h_mm: float, spec: assets.FontSpec,
            fill: tuple[int, int, int]) -> BoxMM:
    """OCR-B-like digits: a bold monospace face, letter-spaced to span x0..x1."""
    fnt = assets.font(spec, round(h_mm * pen.s / 0.73))  # digit height ~0.73 em
    width = fnt.getlength(text) / pen.s
    gap = max(0.0, (x1 - x0 - width) / (len(text) - 1))
    s = pen.s
    ref = fnt.getbbox("0", anchor="ls")
    baseline = cy * s - (ref[1] + ref[3]) / 2
    x = x0 * s
    bx0 = by0 = float("inf")
    bx1 = by1 = float("-inf")
    for ch in text:
        bb = pen.draw.textbbox((x, baseline), ch, font=fnt, anchor="ls")
        pen.draw.text((x, baseline), ch, font=fnt, fill=fill, anchor="ls")
        bx0, by0, bx1, by1 = min(bx0, bb[0]), min(by0, bb[1]), max(bx1, bb[2]), max(by1, bb[3])
        x += fnt.getlength(ch) + gap * s
    return (bx0 / s, by0 / s, bx1 / s, by1 / s)
