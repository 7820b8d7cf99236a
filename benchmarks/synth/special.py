"""Special cases: finger occlusion, field glare, and the objects of negative samples.

Negative objects (a page of printed text, a bank card, another kind of ID-1 card) go through the
same pose and photo pipeline as the permit, so that only their content tells them apart.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageDraw

from benchmarks.synth import assets
from benchmarks.synth.card import BoxMM

SKIN_RGB: tuple[tuple[int, int, int], ...] = ((224, 182, 150), (205, 152, 120), (176, 124, 94), (236, 196, 170))


def box_grid_mm(box: BoxMM, nx: int = 7, ny: int = 3) -> np.ndarray:
    """Sample points inside a box (mm), for coverage estimates after mapping into the image."""
    x0, y0, x1, y1 = box
    xs = np.linspace(x0, x1, nx + 2)[1:-1]
    ys = np.linspace(y0, y1, ny + 2)[1:-1]
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], 1)


def draw_finger(img: np.ndarray, rng: np.random.Generator, tip_xy: tuple[float, float],
                direction_xy: tuple[float, float], width_px: float) -> np.ndarray:
    """Draw a shaded, skin-coloured finger from `tip_xy` out along `direction_xy`; returns the mask."""
    h, w = img.shape[:2]
    dx, dy = direction_xy
    n = math.hypot(dx, dy) or 1.0
    dx, dy = dx / n, dy / n
    length = 2.2 * max(w, h)
    tip = np.array(tip_xy)
    end = tip + length * np.array([dx, dy])
    f = min(1.0, 512.0 / max(w, h))
    sw, sh = max(4, round(w * f)), max(4, round(h * f))
    small = np.zeros((sh, sw), np.uint8)
    cv2.line(small, tuple(int(v) for v in (tip * f).round()), tuple(int(v) for v in (end * f).round()), 255,
             max(2, round(width_px * f)), cv2.LINE_AA)
    dist: np.ndarray = cv2.distanceTransform((small > 127).astype(np.uint8), cv2.DIST_L2, 3)
    dist = dist / max(float(dist.max()), 1e-6)
    shade_small = (0.62 + 0.42 * np.sqrt(dist)).astype(np.float32)
    mask = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    mask = cv2.GaussianBlur(mask, (0, 0), max(0.8, width_px * 0.02))
    shade = cv2.resize(shade_small, (w, h), interpolation=cv2.INTER_LINEAR)
    skin = np.array(SKIN_RGB[int(rng.integers(len(SKIN_RGB)))], np.float32) + rng.uniform(-10, 10, 3)
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return mask
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    m = mask[y0:y1, x0:x1, None].astype(np.float32) / 255.0
    col = skin[None, None, :] * shade[y0:y1, x0:x1, None]
    # the nail: a lighter, pinker patch just behind the tip
    nail = np.zeros((y1 - y0, x1 - x0), np.float32)
    c = tip + 0.32 * width_px * np.array([dx, dy]) - np.array([x0, y0])
    axes = (max(1, round(width_px * 0.3)), max(1, round(width_px * 0.22)))
    cv2.ellipse(nail, (round(c[0]), round(c[1])), axes, math.degrees(math.atan2(dy, dx)), 0, 360, 1.0, -1)
    nail = cv2.GaussianBlur(nail, (0, 0), max(0.8, width_px * 0.03))[..., None]
    col = col * (1 - 0.35 * nail) + np.array([240, 200, 195], np.float32) * 0.35 * nail
    region = img[y0:y1, x0:x1].astype(np.float32)
    img[y0:y1, x0:x1] = (col * m + region * (1 - m)).clip(0, 255).astype(np.uint8)
    return mask


# ------------------------------------------------------------------------------ negative objects
_TEXT = ("根据国家有关规定本通知自发布之日起施行各单位应当认真贯彻落实做好相关工作确保各项措施落到实处"
         "会议讨论了年度工作计划并就下一阶段的重点任务进行了部署要求各部门加强协调配合按时完成目标")


def _alpha_rect(w: int, h: int, r: int) -> np.ndarray:
    a = np.zeros((h, w), np.uint8)
    if r <= 0:
        a[:] = 255
        return a
    cv2.rectangle(a, (r, 0), (w - 1 - r, h - 1), 255, -1)
    cv2.rectangle(a, (0, r), (w - 1, h - 1 - r), 255, -1)
    for cx, cy in ((r, r), (w - 1 - r, r), (r, h - 1 - r), (w - 1 - r, h - 1 - r)):
        cv2.circle(a, (cx, cy), r, 255, -1, cv2.LINE_AA)
    return a


def text_page(rng: np.random.Generator, px_per_mm: float) -> tuple[np.ndarray, np.ndarray, float]:
    """A page of printed Chinese text (A5-like, 148 x 210 mm). Returns rgb, alpha, aspect w/h."""
    s = px_per_mm
    w, h = round(148 * s), round(210 * s)
    img = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(236, 252, 3)))
    d = ImageDraw.Draw(img)
    spec = assets.VALUE_FONTS[int(rng.integers(len(assets.VALUE_FONTS)))][0]
    fs = max(6, round(rng.uniform(3.5, 5.5) * s))
    title = assets.font(assets.TITLE_FONTS[0], round(fs * 1.5))
    d.text((w * 0.25, 14 * s), "关于做好年度工作的通知", font=title, fill=(20, 20, 20))
    fnt = assets.font(spec, fs)
    per_line = int((w - 30 * s) / fs)
    y = 30 * s
    k = int(rng.integers(0, len(_TEXT)))
    while y < h - 20 * s:
        line = "".join(_TEXT[(k + i) % len(_TEXT)] for i in range(per_line))
        k += per_line
        d.text((15 * s, y), line, font=fnt, fill=(25, 25, 25))
        y += fs * 1.7
    return np.asarray(img), _alpha_rect(w, h, 0), 148 / 210


def other_card(rng: np.random.Generator, px_per_mm: float) -> tuple[np.ndarray, np.ndarray, float, str]:
    """Another ID-1 card: a bank card, a 社会保障卡, a 驾驶证-like card or a mainland resident ID card (either
    side: the nearest look-alike, labels shared with the permit's). Returns rgb, alpha, aspect, kind."""
    s = px_per_mm
    w, h = round(85.6 * s), round(54 * s)
    kind = str(rng.choice(["bank_card", "social_security_card", "driving_licence", "resident_id_front",
                           "resident_id_back"]))
    if kind.startswith("resident_id"):
        return _resident_id(rng, s, kind), _alpha_rect(w, h, round(3 * s)), 85.6 / 54, kind
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "bank_card":
        a, b = np.array(rng.uniform(0, 120, 3)), np.array(rng.uniform(60, 220, 3))
    else:
        a, b = np.array([220, 232, 240]) + rng.uniform(-15, 10, 3), np.array([250, 246, 236]) + rng.uniform(-10, 5, 3)
    t = ((xx / w) * 0.7 + (yy / h) * 0.3)[..., None]
    base = (a * (1 - t) + b * t).clip(0, 255).astype(np.uint8)
    img = Image.fromarray(np.ascontiguousarray(base))
    d = ImageDraw.Draw(img)
    lf = assets.font(assets.LABEL_FONTS[0], round(3.0 * s))
    bf = assets.font(assets.TITLE_FONTS[0], round(4.6 * s))
    df = assets.font(assets.DIGIT_FONTS[0], round(4.2 * s))
    if kind == "bank_card":
        bank = str(rng.choice(["中国工商银行", "中国建设银行", "招商银行", "中国银行", "交通银行"]))
        d.text((6 * s, 5 * s), bank, font=bf, fill=(250, 250, 250))
        d.rounded_rectangle((8 * s, 18 * s, 19 * s, 27 * s), radius=1.2 * s, fill=(212, 180, 90))
        digits = "62" + "".join(str(int(v)) for v in rng.integers(0, 10, 14))
        d.text((8 * s, 33 * s), " ".join(digits[i:i + 4] for i in range(0, 16, 4)), font=df, fill=(245, 245, 245))
        d.text((8 * s, 44 * s), "UnionPay  银联  12/29", font=lf, fill=(240, 240, 240))
    else:
        title = "社会保障卡" if kind == "social_security_card" else "机动车驾驶证"
        d.text((24 * s, 4 * s), "中华人民共和国" + title, font=bf, fill=(30, 60, 120))
        labels = (("姓名", "社会保障号码", "卡号", "发卡日期") if kind == "social_security_card"
                  else ("姓名", "性别", "国籍", "准驾车型", "初次领证日期"))
        for i, lab in enumerate(labels):
            y = (16 + i * 7) * s
            d.text((6 * s, y), lab, font=lf, fill=(40, 110, 170))
            d.text((30 * s, y), "".join(str(int(v)) for v in rng.integers(0, 10, 8)), font=lf, fill=(20, 20, 20))
        d.rectangle((62 * s, 14 * s, 80 * s, 38 * s), fill=(230, 232, 236), outline=(160, 160, 170))
    return np.asarray(img), _alpha_rect(w, h, round(3 * s)), 85.6 / 54, kind


def _mainland_id_number(rng: np.random.Generator) -> str:
    region = str(rng.choice(["110101", "310104", "440305", "330106", "510107", "420102"]))
    body = region + f"{int(rng.integers(1950, 2005))}{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}"
    body += "".join(str(int(v)) for v in rng.integers(0, 10, 3))
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * wt for c, wt in zip(body, weights, strict=True)) % 11]


def _resident_id(rng: np.random.Generator, s: float, kind: str) -> np.ndarray:
    """A mainland resident ID card (居民身份证), pale like the permit and with most of its labels."""
    w, h = round(85.6 * s), round(54 * s)
    a = np.array([236, 240, 244]) + rng.uniform(-12, 8, 3)
    base = np.empty((h, w, 3), np.uint8)
    base[:] = a.clip(0, 255).astype(np.uint8)
    img = Image.fromarray(base)
    d = ImageDraw.Draw(img)
    lf = assets.font(assets.LABEL_FONTS[int(rng.integers(len(assets.LABEL_FONTS)))], round(2.6 * s))
    vf = assets.font(assets.pick_value_font(rng), round(3.2 * s))
    blue, ink = (40, 110, 170), (20, 20, 24)
    if kind == "resident_id_front":
        rows = (("姓 名", "".join(rng.choice(list("王李张刘陈杨黄赵吴周徐孙马朱胡林郭何高罗"), 3))),
                ("性 别", str(rng.choice(["男", "女"])) + "    民 族  汉"), ("出 生", "1988 年 6 月 12 日"),
                ("住 址", "北京市东城区景山前街4号"))
        for i, (label, value) in enumerate(rows):
            y = (6 + i * 7.5) * s
            d.text((6 * s, y), label, font=lf, fill=blue)
            d.text((17 * s, y - 0.4 * s), value, font=vf, fill=ink)
        d.text((6 * s, 45 * s), "公民身份号码", font=lf, fill=blue)
        d.text((28 * s, 44.5 * s), _mainland_id_number(rng), font=vf, fill=ink)
        d.rectangle((58 * s, 8 * s, 80 * s, 36 * s), fill=(225, 228, 232))
    else:
        d.text((30 * s, 12 * s), "中华人民共和国", font=assets.font(assets.TITLE_FONTS[0], round(5.0 * s)), fill=ink)
        d.text((27 * s, 21 * s), "居民身份证", font=assets.font(assets.TITLE_FONTS[0], round(6.6 * s)), fill=ink)
        d.text((16 * s, 37 * s), "签发机关", font=lf, fill=blue)
        d.text((30 * s, 36.6 * s), "北京市公安局东城分局", font=vf, fill=ink)
        d.text((16 * s, 44 * s), "有效期限", font=lf, fill=blue)
        d.text((30 * s, 43.6 * s), "2015.03.01-2035.03.01", font=vf, fill=ink)
    return np.asarray(img)
