"""Synthetic permit photos with ground truth, and the accuracy and speed benchmarks."""
