"""Blend maths in torch, for faces whose model runs on a CUDA GPU."""
