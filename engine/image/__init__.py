"""Image: the photo's bytes made into pixels, and the pure geometry every later stage measures with.

In: the uploaded bytes (JPEG, PNG, ...). Out: an upright BGR image within the vendor's 200-8000 px
limits (`decode.decode_image`, or an `ImageSizeError` / `UnsupportedImageError`); `geometry` holds pure
functions on quads (`QuadXY`: lt, rt, rb, lb in image pixels) and perspective warps.
"""
