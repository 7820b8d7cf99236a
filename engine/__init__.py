"""hmt-ocr engine: photo of a residence permit in, one typed `CardResult` out. No web framework here."""
