"""Locate: finds the card's outline in the photo.

In: the decoded photo (BGR). Out: quads (four corners in photo pixels, lt-rt along a long side) with a
confidence; the learned outline first, the classical locator and the printed anchors as refiners and
cross-checks.
"""
