"""Training the card-outline network (`hmtocr train outline`): randomised scenes, the network, the loop.

Needs the `train` extra (torch, CPU build is enough); the service only runs the exported ONNX file.
"""
