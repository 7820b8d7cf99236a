"""PP-OCR text detection and recognition on shared onnxruntime sessions."""
