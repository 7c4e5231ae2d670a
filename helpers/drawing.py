"""A student's own handwriting for an MNIST network: strokes, MNIST-style preprocessing, a drawing pad.

MNIST's digits were prepared in a fixed way (LeCun, Cortes and Burges, the MNIST
page): each digit was scaled, keeping its aspect ratio, to fit a 20x20 box (with
anti-aliasing, hence grey levels), then placed in a 28x28 image so that its centre
of mass sits at the centre; ink is white (high values) on black. A network trained
on those images expects exactly that. A drawing on a 280x280 canvas is none of it
until :func:`preprocess_drawing` makes it so; :func:`naive_28x28` shows what the
network would get without the preprocessing.

:func:`drawing_pad` is the interactive demo (notebook 07): an anywidget canvas that
sends its strokes to Python, which preprocesses them and asks the model, as the
student draws. anywidget is imported only there, so the rest of this module (and
``import helpers``) works without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Side of the drawing canvas in pixels: ten times MNIST's 28.
CANVAS_SIZE = 280
#: Pen width on the canvas, in canvas pixels. 18 px on 280 is about 2 px once a digit
#: is scaled into MNIST's 20x20 box, close to MNIST's own strokes.
PEN_WIDTH = 18.0
#: MNIST's digit box and image size.
DIGIT_BOX = 20
IMAGE_SIZE = 28
#: What the pad says instead of a prediction when there is no ink.
EMPTY_MESSAGE = "Draw a digit first."

Point = Sequence[float]


class EmptyDrawingError(ValueError):
    """Raised when a drawing has no ink: there is nothing to recognise."""


def render_strokes(strokes: Sequence[Sequence[Point]], size: int = CANVAS_SIZE, width: float = PEN_WIDTH) -> np.ndarray:
    """Rasterise pen strokes (lists of ``(x, y)`` canvas points) into a ``size x size`` ink image.

    Returns float32 ink in [0, 1] (1 where the round pen passed, soft at the edges),
    the way the drawing pad's canvas looks to Python. Notebooks use it to make
    reproducible "drawings" in code; the pad uses it on the strokes the browser sends,
    so both go through the same pixels.
    """
    distance = np.full((size, size), np.inf, dtype=np.float32)
    reach = width / 2 + 1  # pixels farther than this from a segment get no ink
    for stroke in strokes:
        points = np.asarray(stroke, dtype=np.float32).reshape(-1, 2)
        if len(points) == 1:
            points = np.vstack([points, points])  # a dot: a segment of length 0
        for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
            top, bottom = max(0, int(min(y0, y1) - reach)), min(size, int(max(y0, y1) + reach) + 1)
            left, right = max(0, int(min(x0, x1) - reach)), min(size, int(max(x0, x1) + reach) + 1)
            if top >= bottom or left >= right:
                continue
            ys, xs = np.mgrid[top:bottom, left:right].astype(np.float32) + 0.5
            dx, dy = x1 - x0, y1 - y0
            length2 = dx * dx + dy * dy
            t = 0.0 if length2 == 0 else np.clip(((xs - x0) * dx + (ys - y0) * dy) / length2, 0.0, 1.0)
            window = distance[top:bottom, left:right]
            np.minimum(window, np.hypot(xs - (x0 + t * dx), ys - (y0 + t * dy)), out=window)
    return np.clip(width / 2 + 0.5 - distance, 0.0, 1.0).astype(np.float32)


def has_ink(ink: np.ndarray, level: float = 0.05) -> bool:
    """True when some pixel of ``ink`` is above ``level``: an empty canvas has nothing to read."""
    return bool(np.asarray(ink).max(initial=0.0) > level)


def naive_28x28(ink: np.ndarray) -> np.ndarray:
    """The drawing shrunk to 28x28 by averaging blocks of pixels, with no cropping or centring.

    What the network would see without MNIST's preprocessing: a digit drawn small or
    off-centre stays small and off-centre.
    """
    ink = np.asarray(ink, dtype=np.float32)
    size = ink.shape[0]
    if ink.shape != (size, size) or size % IMAGE_SIZE:
        raise ValueError(f"expected a square image whose side is a multiple of {IMAGE_SIZE}, got {ink.shape}")
    block = size // IMAGE_SIZE
    return ink.reshape(IMAGE_SIZE, block, IMAGE_SIZE, block).mean(axis=(1, 3))


def preprocess_drawing(ink: np.ndarray) -> np.ndarray:
    """Prepare a drawing the way MNIST's digits were prepared; return a 28x28 float32 image in [0, 1].

    ``ink`` is a 2-D array, high where there is ink (white on black; invert a dark-on-light
    scan first). Steps: crop to the ink's bounding box; scale it, keeping the aspect
    ratio, so that its longer side is 20 pixels (area averaging, which anti-aliases like
    MNIST's grey edges); put it in a 28x28 black image so that its centre of mass is
    within half a pixel of pixel (14, 14), where MNIST's are; scale the brightest pixel to
    1. Raises :class:`EmptyDrawingError` when there is no ink.
    """
    from PIL import Image  # Pillow comes with matplotlib

    ink = np.clip(np.asarray(ink, dtype=np.float32), 0.0, None)
    if ink.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {ink.shape}")
    if not has_ink(ink):
        raise EmptyDrawingError(EMPTY_MESSAGE)
    rows = np.flatnonzero(ink.max(axis=1) > 0)
    columns = np.flatnonzero(ink.max(axis=0) > 0)
    digit = ink[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    height, width = digit.shape
    scale = DIGIT_BOX / max(height, width)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))  # PIL wants (width, height)
    small = np.asarray(Image.fromarray(digit).resize(new_size, Image.Resampling.BOX), dtype=np.float32)
    small = np.clip(small, 0.0, None)
    # centre of mass of the scaled digit, then the offset that moves it to the image centre
    total = small.sum()
    centre_y = (small.sum(axis=1) * np.arange(small.shape[0])).sum() / total
    centre_x = (small.sum(axis=0) * np.arange(small.shape[1])).sum() / total
    middle = IMAGE_SIZE / 2  # pixel 14: where MNIST's centres of mass lie (notebook 07 measures it), not 13.5
    top = int(np.clip(round(middle - centre_y), 0, IMAGE_SIZE - small.shape[0]))
    left = int(np.clip(round(middle - centre_x), 0, IMAGE_SIZE - small.shape[1]))
    image = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    image[top:top + small.shape[0], left:left + small.shape[1]] = small
    return image / image.max()


@dataclass
class Reading:
    """What a model reads in one drawing, with and without MNIST's preprocessing."""

    processed: np.ndarray  # 28x28, what the network is given
    naive: np.ndarray  # 28x28, the drawing only shrunk
    probabilities: np.ndarray  # the model's ten probabilities for ``processed``
    naive_probabilities: np.ndarray  # ... and for ``naive``
    threshold: float  # below this top probability the reading is uncertain

    @property
    def digit(self) -> int:
        return int(self.probabilities.argmax())

    @property
    def confidence(self) -> float:
        return float(self.probabilities.max())

    @property
    def uncertain(self) -> bool:
        return self.confidence < self.threshold

    @property
    def naive_digit(self) -> int:
        return int(self.naive_probabilities.argmax())

    def summary(self) -> str:
        """One line: the digit, its probability, and whether it is uncertain."""
        flag = f" - uncertain (top probability under {self.threshold:.2f})" if self.uncertain else ""
        return f"{self.digit} ({self.confidence:.0%}){flag}"


def class_probabilities(model, images: np.ndarray) -> np.ndarray:
    """The model's class probabilities for 28x28 images in [0, 1], as a NumPy array ``(n, 10)``.

    Calls the model directly (no ``predict`` progress bar or per-call set-up), fast
    enough to run at every pen stroke.
    """
    from .environment import _import_keras  # TensorFlow's start-up lines stay out of the notebook

    keras = _import_keras()
    batch = np.asarray(images, dtype=np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1)
    return keras.ops.convert_to_numpy(model(batch, training=False))


def read_drawing(model, ink: np.ndarray, threshold: float) -> Reading:
    """Preprocess ``ink`` the MNIST way and ask ``model``; also ask it about the unprocessed drawing.

    Raises :class:`EmptyDrawingError` for an empty drawing, so that nobody gets a
    prediction for nothing.
    """
    processed = preprocess_drawing(ink)
    naive = naive_28x28(ink)
    probabilities, naive_probabilities = class_probabilities(model, np.stack([processed, naive]))
    return Reading(processed, naive, probabilities, naive_probabilities, threshold)


_PAD_ESM = r"""
function render({ model, el }) {
  const size = model.get("canvas_size");
  const root = document.createElement("div");
  root.className = "digit-pad";
  root.innerHTML = `
    <style>
      .digit-pad { display: flex; gap: 18px; align-items: flex-start; font-family: sans-serif; color: #222; }
      .digit-pad .pad { border: 2px solid #888; background: #000; touch-action: none; cursor: crosshair; }
      .digit-pad button { margin-top: 6px; padding: 3px 12px; }
      .digit-pad .side { display: flex; flex-direction: column; gap: 6px; min-width: 290px; }
      .digit-pad .digit-pad-prediction { font-size: 44px; font-weight: bold; line-height: 1; }
      .digit-pad .uncertain { color: #b36b00; }
      .digit-pad .bars { display: grid; grid-template-columns: 14px 200px 44px; gap: 2px 6px; font-size: 13px; }
      .digit-pad .bar { background: #ddd; height: 14px; }
      .digit-pad .bar > div { background: #3a6fb0; height: 100%; }
      .digit-pad .views { display: flex; gap: 10px; font-size: 12px; }
      .digit-pad .views canvas { width: 84px; height: 84px; image-rendering: pixelated; border: 1px solid #888; }
    </style>
    <div><canvas class="pad" width="${size}" height="${size}" style="width:${size}px;height:${size}px"></canvas>
      <div><button class="clear">Clear</button></div></div>
    <div class="side">
      <div class="digit-pad-message"></div>
      <div class="digit-pad-prediction"></div>
      <div class="bars"></div>
      <div class="views">
        <div>drawn, only shrunk<br><canvas class="naive" width="28" height="28"></canvas><br><span class="naive-text"></span></div>
        <div>what the network sees<br><canvas class="processed" width="28" height="28"></canvas></div>
      </div>
    </div>`;
  el.appendChild(root);
  const pad = root.querySelector(".pad");
  const pen = pad.getContext("2d");
  let strokes = [];
  let current = null;
  let lastSent = 0;

  function paint() {
    pen.fillStyle = "#000";
    pen.fillRect(0, 0, size, size);
    pen.strokeStyle = "#fff";
    pen.fillStyle = "#fff";
    pen.lineWidth = model.get("pen_width");
    pen.lineCap = "round";
    pen.lineJoin = "round";
    for (const stroke of strokes) {
      if (stroke.length === 1) {
        pen.beginPath();
        pen.arc(stroke[0][0], stroke[0][1], pen.lineWidth / 2, 0, 2 * Math.PI);
        pen.fill();
        continue;
      }
      pen.beginPath();
      pen.moveTo(stroke[0][0], stroke[0][1]);
      for (const [x, y] of stroke.slice(1)) pen.lineTo(x, y);
      pen.stroke();
    }
  }
  function send() {
    model.set("strokes", strokes.map((s) => s.map((p) => [p[0], p[1]])));
    model.save_changes();
    lastSent = Date.now();
  }
  function point(event) {
    const box = pad.getBoundingClientRect();
    return [Math.round((event.clientX - box.left) * size / box.width * 10) / 10,
            Math.round((event.clientY - box.top) * size / box.height * 10) / 10];
  }
  pad.addEventListener("pointerdown", (event) => {
    pad.setPointerCapture(event.pointerId);
    current = [point(event)];
    strokes.push(current);
    paint();
  });
  pad.addEventListener("pointermove", (event) => {
    if (!current) return;
    current.push(point(event));
    paint();
    if (Date.now() - lastSent > 250) send();  // predict as the student draws
  });
  const finish = () => { if (current) { current = null; send(); } };
  pad.addEventListener("pointerup", finish);
  pad.addEventListener("pointercancel", finish);
  root.querySelector(".clear").addEventListener("click", () => { strokes = []; paint(); send(); });

  function image(canvas, values) {
    const context = canvas.getContext("2d");
    const pixels = context.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const v = Math.round(255 * (values ? values[i] : 0));
      pixels.data.set([v, v, v, 255], 4 * i);
    }
    context.putImageData(pixels, 0, 0);
  }
  function show() {
    const view = model.get("view");
    root.querySelector(".digit-pad-message").textContent = view.message || "";
    const prediction = root.querySelector(".digit-pad-prediction");
    prediction.textContent = view.digit === null || view.digit === undefined ? "" : String(view.digit);
    prediction.dataset.digit = prediction.textContent;
    prediction.classList.toggle("uncertain", Boolean(view.uncertain));
    const bars = root.querySelector(".bars");
    bars.innerHTML = "";
    (view.probabilities || []).forEach((p, digit) => {
      bars.insertAdjacentHTML("beforeend",
        `<span>${digit}</span><div class="bar"><div style="width:${(100 * p).toFixed(1)}%"></div></div>` +
        `<span>${(100 * p).toFixed(0)}%</span>`);
    });
    image(root.querySelector(".naive"), view.naive);
    image(root.querySelector(".processed"), view.processed);
    root.querySelector(".naive-text").textContent = view.naive_text || "";
  }
  model.on("change:view", show);
  paint();
  show();
}
export default { render };
"""

_PAD_CLASS = None


def _pad_class():
    """The anywidget class of the drawing pad, defined once anywidget is imported."""
    global _PAD_CLASS
    if _PAD_CLASS is None:
        import anywidget
        import traitlets

        class DrawingPad(anywidget.AnyWidget):
            """A canvas whose strokes a model reads as they are drawn (see :func:`drawing_pad`)."""

            _esm = _PAD_ESM
            canvas_size = traitlets.Int(CANVAS_SIZE).tag(sync=True)
            pen_width = traitlets.Float(PEN_WIDTH).tag(sync=True)
            strokes = traitlets.List().tag(sync=True)
            view = traitlets.Dict().tag(sync=True)

            def __repr__(self) -> str:
                # What a notebook shows where no browser renders widgets (nbval, papermill, GitHub).
                return "The drawing pad needs JupyterLab, Colab or VS Code: open this notebook there and draw."

        _PAD_CLASS = DrawingPad
    return _PAD_CLASS


def pad_view(model, strokes: Sequence[Sequence[Point]], threshold: float) -> dict:
    """What the pad shows for ``strokes``: the message, or the prediction, its ten bars and both 28x28 images."""
    ink = render_strokes(strokes)
    if not has_ink(ink):
        return {"message": EMPTY_MESSAGE, "digit": None}
    reading = read_drawing(model, ink, threshold)
    message = (f"Uncertain: the top probability is under {threshold:.2f}. Is it a digit?"
               if reading.uncertain else "The network reads:")
    return {
        "message": message,
        "digit": reading.digit,
        "uncertain": reading.uncertain,
        "probabilities": [round(float(p), 4) for p in reading.probabilities],
        "processed": [round(float(v), 3) for v in reading.processed.ravel()],
        "naive": [round(float(v), 3) for v in reading.naive.ravel()],
        "naive_text": f"read as {reading.naive_digit} ({reading.naive_probabilities.max():.0%})",
    }


def drawing_pad(model, threshold: float):
    """An interactive canvas: draw a digit with the mouse or a finger, ``model`` reads it as you draw.

    Shows the prediction (marked uncertain when its probability is under ``threshold``),
    the ten probabilities as bars, and the drawing as the network sees it (preprocessed)
    next to the drawing only shrunk. An empty canvas shows :data:`EMPTY_MESSAGE`.
    Needs a front end that renders widgets (JupyterLab, Colab, VS Code); elsewhere it
    displays one line saying so. Uses anywidget, whose front end comes with the
    package; in Colab, anywidget turns on Colab's custom widget manager, which loads
    widget front ends from a CDN.
    """
    pad = _pad_class()(view=pad_view(model, [], threshold))

    def update(change: dict) -> None:
        pad.view = pad_view(model, change["new"], threshold)

    pad.observe(update, names="strokes")
    return pad
