"""Checkpoint → ONNX and ONNX → TensorRT engine conversion, with metadata and parity checks."""
