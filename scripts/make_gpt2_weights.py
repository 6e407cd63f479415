#!/usr/bin/env python3
"""Writes GPT-2-shaped random attention weights for attnflow (NumPy only).

GPT-2 (small) has model dimension d = 768 and 12 heads of dimension
d_k = d / 12 = 64 per layer; its linear layers start from N(0, 0.02^2)
entries and zero biases. This script draws such weights, nothing is
downloaded, and writes them in the naming of include/attnflow/weight_files.h:

  layers.{l}.heads.{h}.Q   d_k x d    queries q = Q x
  layers.{l}.heads.{h}.K   d_k x d    keys    k = K x
  layers.{l}.heads.{h}.V   d x d      values  v = V x
  layers.{l}.ff.W          d x d      feed-forward sigma(W x + b)
  layers.{l}.ff.b          d

as OUT.npz (numpy.savez, stored entries) and OUT.safetensors (an 8-byte
little-endian header length, the JSON header, the little-endian arrays).

Usage: make_gpt2_weights.py [--out gpt2_weights] [--layers 3] [--heads 12]
       [--dimension 768] [--head-dimension 64] [--std 0.02] [--seed 2019]
       [--dtype float32|float64]
"""
import argparse
import json
import sys

import numpy as np


def draw_weights(layers, heads, d, d_k, std, seed, dtype):
    """The named arrays, drawn in a fixed order from one seeded generator."""
    generator = np.random.default_rng(seed)
    weights = {}

    def normal(*shape):
        return generator.normal(0.0, std, size=shape).astype(dtype)

    for l in range(layers):
        for h in range(heads):
            prefix = "layers.%d.heads.%d." % (l, h)
            weights[prefix + "Q"] = normal(d_k, d)
            weights[prefix + "K"] = normal(d_k, d)
            weights[prefix + "V"] = normal(d, d)
        weights["layers.%d.ff.W" % l] = normal(d, d)
        weights["layers.%d.ff.b" % l] = np.zeros(d, dtype=dtype)
    return weights


def write_safetensors(path, weights):
    """The safetensors layout: tensors back to back in C order."""
    codes = {np.dtype("<f8"): "F64", np.dtype("<f4"): "F32",
             np.dtype("<f2"): "F16"}
    header, offset = {"__metadata__": {"writer": "make_gpt2_weights.py"}}, 0
    blobs = []
    for name, array in weights.items():
        blob = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
        data = blob.tobytes()
        header[name] = {"dtype": codes[blob.dtype], "shape": list(blob.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)  # align the arrays to 8 bytes
    with open(path, "wb") as out:
        out.write(len(text).to_bytes(8, "little"))
        out.write(text)
        for data in blobs:
            out.write(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gpt2_weights",
                        help="path without extension")
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--dimension", type=int, default=768)
    parser.add_argument("--head-dimension", type=int, default=64)
    parser.add_argument("--std", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--dtype", choices=["float32", "float64"],
                        default="float32")
    args = parser.parse_args()
    if not 0 < args.head_dimension <= args.dimension:
        parser.error("need 0 < --head-dimension <= --dimension")

    weights = draw_weights(args.layers, args.heads, args.dimension,
                           args.head_dimension, args.std, args.seed,
                           np.dtype(args.dtype).newbyteorder("<"))
    np.savez(args.out + ".npz", **weights)
    write_safetensors(args.out + ".safetensors", weights)
    n_values = sum(array.size for array in weights.values())
    print("wrote %s.npz and %s.safetensors: %d layers, %d heads, d = %d, "
          "d_k = %d, %d arrays, %d values (%s)"
          % (args.out, args.out, args.layers, args.heads, args.dimension,
             args.head_dimension, len(weights), n_values, args.dtype))
    return 0


if __name__ == "__main__":
    sys.exit(main())
