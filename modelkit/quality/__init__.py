"""Learning the field-quality model (`hmtocr train quality`) from the engine's own readings of generated photos."""
