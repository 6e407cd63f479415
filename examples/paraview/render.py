"""Render an attnflow run folder: the density and the tokens on one time axis.

Headless, one PNG frame per selected output time:

    xvfb-run -a -s "-screen 0 1280x1024x24 -noreset" \\
        pvbatch examples/paraview/render.py RUN_FOLDER [options]

RUN_FOLDER is an attnflow output directory holding density.pvd and
tokens.pvd. The geometry is read off the density mesh (the dimension of its
cells and its bounds):

* S^2: the density coloured on the sphere, the tokens as points on it;
* S^1: the density as the curve r = 1 + c rho around the unit circle (a
  polar plot), the tokens as points on the circle;
* a box in R^2: the density warped by its value, the tokens lifted onto the
  warped surface, the view fitted to where the density lives;
* a box in R^1: the curve (x, c rho(x)), the tokens as a rug below the axis;
* a box in R^3: the density on the slice z = centre, the box outline, the
  tokens as points.

The tokens are drawn unlit in one colour (--token-color) that is not in the
density's colour map, so that check_image.py can tell the two apart. Frames
are named frame_NNNN.png, NNNN the index of the output time in the .pvd
records (the NNNN of density_NNNN.vtu). See README.md next to this file.
"""

import argparse
import math
import os
import sys
from dataclasses import dataclass

import paraview.simple as pv
from vtk.numpy_interface import dataset_adapter

LEGEND_LEFT = 0.87  # the colour legend lies right of this fraction of the width


@dataclass
class Scene:
    """What every view builder needs."""
    density: object  # the reader of density.pvd
    tokens: object   # the reader of tokens.pvd, None without tokens
    view: object
    lut: object      # the density's colour map
    options: argparse.Namespace
    frames: list     # the selected (index in the .pvd records, time) pairs
    peak: float      # the largest density over the selected times


def parse_arguments(argv):
    """Returns the command line options."""
    parser = argparse.ArgumentParser(
        prog="pvbatch render.py",
        description="Render the density and the tokens of an attnflow run "
                    "folder into PNG frames, one per output time.")
    parser.add_argument("run", help="the run folder (Output/directory)")
    parser.add_argument("--output", help="where the frames go "
                        "(default: RUN/frames)")
    parser.add_argument("--times", default="all", type=parse_times,
                        help="all | last | a comma-separated list of times, "
                             "each picking the nearest output time "
                             "(default: all)")
    parser.add_argument("--size", default="800x600", type=parse_size,
                        help="frame size in pixels, WxH (default: 800x600)")
    parser.add_argument("--range", default="global", type=parse_range,
                        help="density colour range: global (0 to the largest "
                             "density over the selected times), frame (0 to "
                             "the frame's largest density) or MIN,MAX "
                             "(default: global)")
    parser.add_argument("--scale", type=float,
                        help="height per unit density of the warped views "
                             "(S^1, boxes in R^1 and R^2; default: the "
                             "largest density over the selected times "
                             "reaches 0.6 of the radius, 0.45 of the segment "
                             "or 0.35 of the region shown)")
    parser.add_argument("--view", default="auto", type=parse_view,
                        help="direction X,Y,Z the camera looks from (S^2 and "
                             "boxes in R^2, R^3; default on S^2: the mean of "
                             "the tokens at the last selected time)")
    parser.add_argument("--colormap", default="Viridis (matplotlib)",
                        help="ParaView colour map preset of the density "
                             "(default: 'Viridis (matplotlib)')")
    parser.add_argument("--token-color", default=(0.9, 0.05, 0.05),
                        type=parse_color,
                        help="token colour R,G,B in [0, 1], outside the colour "
                             "map (default: 0.9,0.05,0.05)")
    parser.add_argument("--token-size", type=float,
                        help="token diameter in pixels (default: from 6 for "
                             "100 tokens down to 2 for 10000 and more)")
    parser.add_argument("--no-tokens", action="store_true",
                        help="draw the density alone (tokens.pvd may be "
                             "missing)")
    return parser.parse_args(argv)


def parse_floats(text, count, what):
    """'a,b,c' -> [a, b, c], exactly `count` numbers."""
    try:
        values = [float(n) for n in text.split(",")]
    except ValueError:
        values = []
    if len(values) != count:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not {what} ({count} comma-separated numbers)")
    return values


def parse_times(text):
    """'all', 'last' or a list of times '0,2.5,10'."""
    if text in ("all", "last"):
        return text
    try:
        return [float(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not all, last or a comma-separated list of times")


def parse_size(text):
    """'800x600' -> [800, 600]."""
    try:
        width, height = (int(n) for n in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not WxH")
    if width < 16 or height < 16:
        raise argparse.ArgumentTypeError(f"'{text}' is too small")
    return [width, height]


def parse_range(text):
    """'global', 'frame' or 'MIN,MAX'."""
    if text in ("global", "frame"):
        return text
    low, high = parse_floats(text, 2, "MIN,MAX")
    if not low < high:
        raise argparse.ArgumentTypeError(f"'{text}': MIN must be below MAX")
    return [low, high]


def parse_view(text):
    """'auto' or a non-zero direction 'X,Y,Z'."""
    if text == "auto":
        return text
    direction = parse_floats(text, 3, "X,Y,Z")
    if not any(direction):
        raise argparse.ArgumentTypeError("the view direction is zero")
    return direction


def parse_color(text):
    """'R,G,B' with components in [0, 1]."""
    color = parse_floats(text, 3, "R,G,B")
    if not all(0 <= c <= 1 for c in color):
        raise argparse.ArgumentTypeError(f"'{text}': components lie in [0, 1]")
    return color


def open_run(run, with_tokens):
    """The readers of density.pvd and tokens.pvd (None without tokens).

    Exits with a message naming the missing records."""
    names = ["density.pvd"] + (["tokens.pvd"] if with_tokens else [])
    missing = [n for n in names if not os.path.isfile(os.path.join(run, n))]
    if missing:
        sys.exit(f"render.py: {run} has no {' and no '.join(missing)} (is it "
                 "the Output/directory of an attnflow run with "
                 "Density/enabled = true?)")
    density = pv.PVDReader(FileName=os.path.join(run, "density.pvd"))
    tokens = (pv.PVDReader(FileName=os.path.join(run, "tokens.pvd"))
              if with_tokens else None)
    if tokens is not None and output_times(tokens) != output_times(density):
        print("render.py: warning: tokens.pvd and density.pvd have different "
              "times; each frame shows the tokens' latest output time up to "
              "the density's", file=sys.stderr)
    return density, tokens


def output_times(reader):
    """The times of a .pvd record, as a list also for a single time."""
    times = reader.TimestepValues
    try:
        return [float(t) for t in times]
    except TypeError:
        return [float(times)]


def select_times(times, spec):
    """(index, time) pairs of the output times that `spec` selects."""
    if spec == "all":
        return list(enumerate(times))
    if spec == "last":
        return [(len(times) - 1, times[-1])]
    chosen = {min(range(len(times)), key=lambda i: abs(times[i] - t))
              for t in spec}
    return [(i, times[i]) for i in sorted(chosen)]


def fetch(source, time):
    """The data set of `source` at `time` (pvbatch runs in one process)."""
    source.UpdatePipeline(time)
    return dataset_adapter.WrapDataObject(
        source.GetClientSideObject().GetOutputDataObject(0))


def detect_geometry(density, time):
    """'circle', 'sphere', 'line', 'plane' or 'volume', from the mesh."""
    mesh = fetch(density, time).VTKObject
    cell_dimension = mesh.GetCell(0).GetCellDimension()
    bounds = mesh.GetBounds()
    flat_y = bounds[3] == bounds[2]
    flat_z = bounds[5] == bounds[4]
    if cell_dimension == 1:
        return "line" if flat_y and flat_z else "circle"
    if cell_dimension == 2:
        return "plane" if flat_z else "sphere"
    return "volume"


def largest_density(density, time):
    """The largest value of the density field at `time`."""
    density.UpdatePipeline(time)
    return density.PointData["density"].GetRange()[1]


def mean_direction(tokens, time):
    """The unit mean of the token positions at `time`, or None near 0."""
    if tokens is None:
        return None
    mean = fetch(tokens, time).Points.mean(axis=0)
    norm = math.sqrt(sum(m * m for m in mean))
    return [m / norm for m in mean] if norm > 0.05 else None


def warp_scale(scene, height):
    """Height per unit density: --scale, or `height` for the peak."""
    if scene.options.scale is not None:
        return scene.options.scale
    return height / scene.peak if scene.peak > 0 else 1.0


def show_density(scene, source, line_width=None):
    """Shows `source` coloured by the density (lines of `line_width`)."""
    display = pv.Show(source, scene.view)
    pv.ColorBy(display, ("POINTS", "density"))
    display.LookupTable = scene.lut
    display.Specular = 0.2
    if line_width is None:
        display.NonlinearSubdivisionLevel = 2
    else:  # level 2 crashes ParaView 5.11 on Lagrange curves: keep 1
        display.LineWidth = line_width
        display.RenderLinesAsTubes = 1


def show_tokens(scene, source):
    """Shows `source` as unlit points of the token colour."""
    display = pv.Show(source, scene.view)
    display.ColorArrayName = ["POINTS", ""]
    display.SetRepresentationType("Points")
    display.RenderPointsAsSpheres = 1
    count = max(source.GetDataInformation().GetNumberOfPoints(), 100)
    display.PointSize = (scene.options.token_size or
                         max(2.0, 6.0 - 2.0 * math.log10(count / 100)))
    display.AmbientColor = scene.options.token_color
    display.DiffuseColor = scene.options.token_color
    display.Ambient = 1.0
    display.Diffuse = 0.0


def show_outline(scene, source):
    """Shows `source` (the undeformed curve, or an outline) in thin grey."""
    display = pv.Show(source, scene.view)
    display.ColorArrayName = ["POINTS", ""]
    display.AmbientColor = display.DiffuseColor = [0.55, 0.55, 0.55]
    display.LineWidth = 1.5


def moved(source, position):
    """`source` with each point moved to `position`, a Calculator
    expression in its coordinates `coords` and its point fields."""
    return pv.Calculator(Input=source, CoordinateResults=1, Function=position)


def draw_circle(scene):
    """S^1: the curve r = 1 + c rho, coloured; tokens on the unit circle,
    drawn above the curve (towards the camera)."""
    scale = warp_scale(scene, 0.6)
    show_outline(scene, scene.density)
    show_density(scene, moved(scene.density,
                              f"coords*(1+{scale}*max(density,0))"),
                 line_width=4)
    if scene.tokens is not None:
        show_tokens(scene, moved(scene.tokens, "coords+0.1*kHat"))
    aspect = scene.options.size[0] / scene.options.size[1]
    radius = 1.0 + scale * scene.peak
    top_down_camera(scene.view, [0, 0],
                    1.1 * radius * max(1.0, 1.0 / (aspect * LEGEND_LEFT)))


def draw_sphere(scene, direction):
    """S^2: the density on the sphere, the tokens just above it, seen from
    `direction`."""
    show_density(scene, scene.density)
    if scene.tokens is not None:
        show_tokens(scene, moved(scene.tokens, "coords*1.01"))
    view = scene.view
    view.CameraFocalPoint = [0, 0, 0]
    view.CameraPosition = [4.6 * d for d in direction]
    view.CameraViewUp = [0, 0, 1] if abs(direction[2]) < 0.9 else [0, 1, 0]
    view.CameraViewAngle = 30


def draw_plane(scene, bounds, direction):
    """Box in R^2: the density warped by its value, the tokens on the warped
    surface, seen from `direction`.

    Only the cells that meet the region where the density lives are drawn,
    their coinciding points merged so that the jumps of the discontinuous
    density between cells do not open cracks in the surface."""
    region = dense_region(scene, bounds)
    size = max(region[1] - region[0], region[3] - region[2])
    scale = warp_scale(scene, 0.35 * size)
    cells = pv.Clip(Input=pv.CleantoGrid(Input=scene.density),
                    ClipType="Box", Crinkleclip=1, Invert=1)
    cells.ClipType.UseReferenceBounds = 0
    cells.ClipType.Position = [region[0], region[2], -1.0]
    cells.ClipType.Length = [region[1] - region[0], region[3] - region[2],
                             2.0]
    show_density(scene, pv.WarpByScalar(
        Input=cells, Scalars=["POINTS", "density"], ScaleFactor=scale,
        Normal=[0, 0, 1], UseNormal=1))
    if scene.tokens is not None:
        on_surface = pv.ResampleWithDataset(SourceDataArrays=scene.density,
                                            DestinationMesh=scene.tokens)
        show_tokens(scene, moved(
            on_surface,
            f"coords+({scale}*max(density,0)+{0.005 * size})*kHat"))
    oblique_camera(scene.view, direction or [0.4, -1.0, 1.1],
                   region[:5] + [0.35 * size])


def dense_region(scene, bounds):
    """The part of the box in R^2 where the density exceeds 2 % of its peak
    at some selected time, with a margin (the box when there is none)."""
    dense = pv.Threshold(Input=scene.density, Scalars=["POINTS", "density"],
                         LowerThreshold=0.02 * scene.peak,
                         UpperThreshold=2 * scene.peak, AllScalars=0)
    low = [math.inf, math.inf]
    high = [-math.inf, -math.inf]
    for _, time in scene.frames:
        dense.UpdatePipeline(time)
        box = dense.GetDataInformation().GetBounds()
        low = [min(low[i], box[2 * i]) for i in range(2)]
        high = [max(high[i], box[2 * i + 1]) for i in range(2)]
    pv.Delete(dense)
    if not low[0] < high[0]:
        return list(bounds)
    margin = 0.1 * max(high[0] - low[0], high[1] - low[1])
    return [max(low[0] - margin, bounds[0]), min(high[0] + margin, bounds[1]),
            max(low[1] - margin, bounds[2]), min(high[1] + margin, bounds[3]),
            0.0, 0.0]


def draw_line(scene, bounds):
    """Box in R^1: the curve (x, c rho(x)); the tokens as a rug below the
    axis, in ten rows by id so that clusters stand out."""
    length = bounds[1] - bounds[0]
    scale = warp_scale(scene, 0.45 * length)
    show_outline(scene, scene.density)
    show_density(scene, pv.WarpByScalar(
        Input=scene.density, Scalars=["POINTS", "density"],
        ScaleFactor=scale, Normal=[0, 1, 0], UseNormal=1), line_width=4)
    if scene.tokens is not None:
        show_tokens(scene, moved(
            scene.tokens, f"coords-{0.012 * length}*(1+id%10)*jHat"))
    aspect = scene.options.size[0] / scene.options.size[1]
    top_down_camera(scene.view,
                    [0.5 * (bounds[0] + bounds[1]), 0.15 * length],
                    length / (1.6 * aspect * LEGEND_LEFT))


def draw_volume(scene, bounds, direction):
    """Box in R^3: the density on the slice z = centre, the box outline, the
    tokens, seen from `direction`."""
    cut = pv.Slice(Input=scene.density, SliceType="Plane")
    cut.SliceType.Origin = [0.5 * (bounds[2 * i] + bounds[2 * i + 1])
                            for i in range(3)]
    cut.SliceType.Normal = [0, 0, 1]
    show_density(scene, cut)
    show_outline(scene, pv.Outline(Input=scene.density))
    if scene.tokens is not None:
        show_tokens(scene, scene.tokens)
    oblique_camera(scene.view, direction or [0.5, -1.0, 0.7], bounds)


def top_down_camera(view, centre, half_height):
    """Looks down the z axis at (centre, 0), parallel projection."""
    view.CameraParallelProjection = 1
    view.CameraFocalPoint = list(centre) + [0]
    view.CameraPosition = list(centre) + [10]
    view.CameraViewUp = [0, 1, 0]
    view.CameraParallelScale = half_height


def oblique_camera(view, direction, bounds):
    """Looks from `direction` at the box `bounds`, all of it in the frame."""
    view.CameraFocalPoint = [0.5 * (bounds[2 * i] + bounds[2 * i + 1])
                             for i in range(3)]
    view.CameraPosition = [f + d for f, d in
                           zip(view.CameraFocalPoint, direction)]
    view.CameraViewUp = [0, 0, 1]
    view.CameraViewAngle = 30
    view.ResetCamera(*bounds)


def build_scene(scene, geometry):
    """Builds the pipeline and the camera of `geometry`."""
    bounds = list(scene.density.GetDataInformation().GetBounds())
    direction = None if scene.options.view == "auto" else scene.options.view
    if geometry == "sphere":
        last = scene.frames[-1][1]
        draw_sphere(scene, direction or mean_direction(scene.tokens, last)
                    or [0.6, -0.6, 0.5])
    elif geometry == "circle":
        draw_circle(scene)
    elif geometry == "plane":
        draw_plane(scene, bounds, direction)
    elif geometry == "line":
        draw_line(scene, bounds)
    else:
        draw_volume(scene, bounds, direction)
    # The picture in the middle of the part left of the legend.
    scene.view.GetActiveCamera().SetWindowCenter(1 - LEGEND_LEFT, 0)


def make_view(size):
    """A white render view of `size` pixels without the orientation axes."""
    view = pv.CreateView("RenderView")
    view.ViewSize = size
    view.UseColorPaletteForBackground = 0
    view.Background = [1, 1, 1]
    view.OrientationAxesVisibility = 0
    view.UseFXAA = 1
    return view


def make_colour_map(view, options):
    """The density colour map and its legend in the right strip."""
    lut = pv.GetColorTransferFunction("density")
    if not lut.ApplyPreset(options.colormap, True):
        sys.exit(f"render.py: no colour map preset '{options.colormap}'")
    lut.AutomaticRescaleRangeMode = "Never"
    bar = pv.GetScalarBar(lut, view)
    bar.Title = "density"
    bar.ComponentTitle = ""
    bar.Orientation = "Vertical"
    bar.WindowLocation = "Any Location"
    bar.Position = [LEGEND_LEFT + 0.01, 0.12]
    bar.ScalarBarLength = 0.7
    bar.TitleColor = bar.LabelColor = [0.1, 0.1, 0.1]
    bar.TitleFontSize = 18
    bar.LabelFontSize = 14
    bar.RangeLabelFormat = "%-#.3g"
    bar.Visibility = 1
    return lut


def colour_range(scene, time):
    """The colour range of the frame at `time`."""
    option = scene.options.range
    if option == "global":
        low, high = 0.0, scene.peak
    elif option == "frame":
        low, high = 0.0, largest_density(scene.density, time)
    else:
        low, high = option
    return low, max(high, low + 1e-12)


def add_text(view, text, location, size):
    """A dark text in a corner of the view; returns its source."""
    source = pv.Text(Text=text)
    display = pv.Show(source, view)
    display.WindowLocation = location
    display.FontSize = size
    display.Color = [0.1, 0.1, 0.1]
    return source


def caption(tokens):
    """What the picture shows, for its lower left corner."""
    if tokens is None:
        return "density (colour)"
    count = tokens.GetDataInformation().GetNumberOfPoints()
    return f"density (colour) and {count} tokens (points)"


def render_frames(scene, folder):
    """Saves frame_NNNN.png into `folder` for each selected output time."""
    animation = pv.GetAnimationScene()
    animation.UpdateAnimationUsingDataTimeSteps()
    clock = add_text(scene.view, "", "Upper Left Corner", 22)
    for index, time in scene.frames:
        animation.AnimationTime = time
        clock.Text = f"t = {time:g}"
        scene.lut.RescaleTransferFunction(*colour_range(scene, time))
        path = os.path.join(folder, f"frame_{index:04d}.png")
        pv.SaveScreenshot(path, scene.view, CompressionLevel="9",
                          ImageResolution=scene.options.size)
        print(f"render.py: t = {time:g} -> {path}")


def main(argv):
    """Renders the frames the command line asks for."""
    options = parse_arguments(argv)
    density, tokens = open_run(options.run, not options.no_tokens)
    frames = select_times(output_times(density), options.times)
    folder = options.output or os.path.join(options.run, "frames")
    os.makedirs(folder, exist_ok=True)

    view = make_view(options.size)
    peak = max(largest_density(density, t) for _, t in frames)
    scene = Scene(density, tokens, view, make_colour_map(view, options),
                  options, frames, peak)
    build_scene(scene, detect_geometry(density, frames[0][1]))
    add_text(view, caption(tokens), "Lower Left Corner", 14)
    render_frames(scene, folder)


if __name__ == "__main__":
    main(sys.argv[1:])
