"""Portrait: the holder's photo cut from a front.

In: the card warped upright (BGR, card pixels) and the box of its printed photo area (`region_xyxy`).
Out: a `PortraitCrop` (`face_crop.PortraitStage`): the enlarged photo area as pixels and JPEG, face found
or not, with the face's box and score when there is one.
"""
