"""Checks that a frame of render.py shows both the density and the tokens.

    pvpython examples/paraview/check_image.py FRAME.png [options]

The frame passes when it is not blank (not one colour, not nearly all
background) and, left of the colour legend (which alone holds every colour of
the map), it has

* enough pixels of the density's colour map, shaded by the lighting (a pixel
  p matches the map colour c when |p - s c| is small for a brightness s in
  [0.35, 1.3]), spread over several bands of the map (a band counts with
  1 % of these pixels), and
* enough pixels of the tokens' colour (drawn unlit, so matched directly).

Otherwise it prints what is missing and exits with 1. The colour map and the
token colour must be those the frame was rendered with (render.py's
defaults unless given).
"""

import argparse
import sys

import numpy
import paraview.simple as pv
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkIOImage import vtkPNGReader

MAP_SAMPLES = 64   # colours sampled from the map
BANDS = 8          # the samples are counted in this many bands of the map
TOLERANCE = 0.08   # RGB distance (colours in [0, 1]) of a match


def parse_arguments(argv):
    """Returns the command line options."""
    parser = argparse.ArgumentParser(
        prog="pvpython check_image.py",
        description="Check that a render.py frame shows the density (colour "
                    "map) and the tokens (token colour).")
    parser.add_argument("image", help="the PNG frame")
    parser.add_argument("--colormap", default="Viridis (matplotlib)",
                        help="the density's colour map preset "
                             "(default: 'Viridis (matplotlib)')")
    parser.add_argument("--token-color", default="0.9,0.05,0.05",
                        type=parse_color, help="the tokens' colour R,G,B in [0, 1] "
                             "(default: 0.9,0.05,0.05)")
    parser.add_argument("--legend-left", type=float, default=0.87,
                        help="fraction of the width right of which the legend "
                             "lies and is ignored (default: 0.87)")
    parser.add_argument("--min-density", type=float, default=0.005,
                        help="least fraction of the checked pixels in the "
                             "colour map (default: 0.005)")
    parser.add_argument("--min-bands", type=int, default=3,
                        help=f"least number of the map's {BANDS} equal bands "
                             "that the density pixels show (default: 3)")
    parser.add_argument("--min-tokens", type=int, default=30,
                        help="least number of token pixels (default: 30)")
    return parser.parse_args(argv)


def parse_color(text):
    """'R,G,B' -> numpy array of the three components."""
    try:
        color = numpy.array([float(c) for c in text.split(",")])
    except ValueError:
        color = numpy.array([])
    if color.shape != (3,):
        raise argparse.ArgumentTypeError(f"'{text}' is not R,G,B")
    return color


def read_png(path):
    """The image as a float array (rows, columns, RGB) with values in [0, 1]."""
    reader = vtkPNGReader()
    if not reader.CanReadFile(path):
        sys.exit(f"check_image.py: {path} is not a readable PNG file")
    reader.SetFileName(path)
    reader.Update()
    image = reader.GetOutput()
    width, height, _ = image.GetDimensions()
    pixels = vtk_to_numpy(image.GetPointData().GetScalars())
    pixels = pixels.reshape(height, width, -1)[:, :, :3]
    return pixels.astype(float) / 255.0


def colour_map(preset):
    """MAP_SAMPLES colours (rows of RGB) of the ParaView preset `preset`."""
    lut = pv.GetColorTransferFunction("check_image")
    if not lut.ApplyPreset(preset, True):
        sys.exit(f"check_image.py: no colour map preset '{preset}'")
    lut.RescaleTransferFunction(0.0, 1.0)
    function = lut.GetClientSideObject()
    colours = numpy.empty((MAP_SAMPLES, 3))
    for row, x in zip(colours, numpy.linspace(0, 1, MAP_SAMPLES)):
        function.GetColor(x, row)
    return colours


def match_map(pixels, colours):
    """For each pixel (rows of RGB): the index of the map colour it matches
    up to brightness, or -1."""
    norms = (colours * colours).sum(axis=1)
    indices = numpy.empty(len(pixels), dtype=int)
    for start in range(0, len(pixels), 8192):
        chunk = pixels[start:start + 8192]
        scale = numpy.clip(chunk @ colours.T / norms, 0.35, 1.3)
        distance = numpy.linalg.norm(
            chunk[:, None, :] - scale[:, :, None] * colours[None, :, :],
            axis=2)
        best = distance.argmin(axis=1)
        matched = distance[numpy.arange(len(chunk)), best] < TOLERANCE
        indices[start:start + 8192] = numpy.where(matched, best, -1)
    return indices


def blank(image):
    """A message when the image is one colour or nearly all background, and
    the background colour (the most frequent one)."""
    values, counts = numpy.unique(image.reshape(-1, 3), axis=0,
                                  return_counts=True)
    background = values[counts.argmax()]
    if len(values) == 1:
        return f"one colour only, {background}", background
    if counts.max() > 0.99 * counts.sum():
        return ("nearly blank: over 99 % of the pixels are the background "
                f"{background}"), background
    return None, background


def problems(image, options):
    """What the frame lacks, as a list of messages, and a summary line."""
    token = options.token_color
    colours = colour_map(options.colormap)
    if (match_map(token[None, :], colours) >= 0).any():
        sys.exit("check_image.py: the token colour is in the colour map: "
                 "choose another --token-color")
    message, background = blank(image)
    if message:
        return [message], ""

    checked = image[:, :int(options.legend_left * image.shape[1])]
    total = checked.shape[0] * checked.shape[1]
    checked = checked.reshape(-1, 3)
    checked = checked[numpy.abs(checked - background).max(axis=1) > 0.02]
    is_token = numpy.abs(checked - token).max(axis=1) < TOLERANCE
    tokens = int(is_token.sum())
    indices = match_map(checked[~is_token], colours)
    indices = indices[indices >= 0]
    density = len(indices)
    hits = numpy.bincount(indices * BANDS // MAP_SAMPLES, minlength=BANDS)
    bands = int((hits >= max(10, 0.01 * density)).sum())

    summary = (f"{density} density pixels ({100 * density / total:.1f} %) in "
               f"{bands} of the map's {BANDS} bands, {tokens} token pixels")
    found = []
    if density < options.min_density * total:
        found.append(f"too few density pixels: {density}, fewer than "
                     f"{options.min_density} x {total}")
    if bands < options.min_bands:
        found.append(f"the density shows {bands} band(s) of the colour "
                     f"map, fewer than {options.min_bands}")
    if tokens < options.min_tokens:
        found.append(f"too few token pixels: {tokens}, fewer than "
                     f"{options.min_tokens}")
    return found, summary


def main(argv):
    """Checks the frame; exit status 1 when something is missing."""
    options = parse_arguments(argv)
    found, summary = problems(read_png(options.image), options)
    if summary:
        print(f"check_image.py: {options.image}: {summary}")
    for message in found:
        print(f"check_image.py: {options.image}: FAIL: {message}",
              file=sys.stderr)
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
