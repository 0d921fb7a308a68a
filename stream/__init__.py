"""The live runtime: capture, landmarks, alignment, inference backends, blending, sinks and the CLI shell.

Importing this package is cheap: heavy dependencies (mediapipe, onnxruntime, torch) load only in the modules
that use them.
"""
