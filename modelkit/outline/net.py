"""The card-outline network: a small encoder-decoder that marks every pixel of the (whole) card.

Input: an RGB photo resized to 192 x 192 (aspect not kept), scaled to [0, 1]. Output: one logit map at
96 x 96 (the card's mask). Depthwise-separable blocks keep it small: a few ms on two cores."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

INPUT_PX = 192


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class _Sep(nn.Module):
    """Depthwise 3x3 (strided or dilated) then pointwise, with a residual when shapes allow."""

    def __init__(self, cin: int, cout: int, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        self.dw = nn.Sequential(
            nn.Conv2d(cin, cin, 3, stride, dilation, dilation, groups=cin, bias=False), nn.BatchNorm2d(cin),
            nn.ReLU(inplace=True),
        )
        self.pw = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pw(self.dw(x))
        return F.relu(y + x if self.residual else y)


class OutlineNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.s2 = _conv(3, 16, 2)  # 96
        self.s4 = nn.Sequential(_Sep(16, 24, 2), _Sep(24, 24))  # 48
        self.s8 = nn.Sequential(_Sep(24, 40, 2), _Sep(40, 40))  # 24
        self.s16 = nn.Sequential(_Sep(40, 64, 2), _Sep(64, 64), _Sep(64, 64, dilation=2))  # 12
        self.s32 = nn.Sequential(_Sep(64, 96, 2), _Sep(96, 96), _Sep(96, 96, dilation=2))  # 6: the whole photo
        self.up16 = _conv(96 + 64, 64)
        self.up8 = _conv(64 + 40, 40)
        self.up4 = _Sep(40 + 24, 24)
        self.up2 = _Sep(24 + 16, 16)
        self.head = nn.Conv2d(16, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f2 = self.s2(x)
        f4 = self.s4(f2)
        f8 = self.s8(f4)
        f16 = self.s16(f8)
        f32 = self.s32(f16)
        y = self.up16(torch.cat([F.interpolate(f32, size=f16.shape[2:], mode="bilinear", align_corners=False), f16], 1))
        y = self.up8(torch.cat([F.interpolate(y, size=f8.shape[2:], mode="bilinear", align_corners=False), f8], 1))
        y = self.up4(torch.cat([F.interpolate(y, size=f4.shape[2:], mode="bilinear", align_corners=False), f4], 1))
        y = self.up2(torch.cat([F.interpolate(y, size=f2.shape[2:], mode="bilinear", align_corners=False), f2], 1))
        out: torch.Tensor = self.head(y)
        return out
